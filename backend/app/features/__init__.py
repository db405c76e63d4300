"""Live features, each in a package of its own: its channels and its routes, declared once.

A feature's package exposes ``feature = Feature(...)``; ``create_app`` finds every package here
(``discover``), adds its channels to the registry and its routers to the app. So adding a
feature is adding a package: nothing else needs an edit (metrics, the AsyncAPI document, the
dev proxy and ``GET /api/config`` learn its routes and channels from the app itself).
"""

import importlib
import pkgutil
from dataclasses import dataclass, field

from fastapi import APIRouter

from app.channels.declarations import Channel


@dataclass(frozen=True)
class Feature:
    name: str
    channels: tuple[Channel, ...] = ()
    routers: tuple[APIRouter, ...] = field(default_factory=tuple)


def discover(package: str = __name__) -> list[Feature]:
    """Every feature in the packages of ``package``, in the order of their names."""
    found: list[Feature] = []
    for module in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__)):
        imported = importlib.import_module(f"{package}.{module.name}")
        feature = getattr(imported, "feature", None)
        if isinstance(feature, Feature):
            found.append(feature)
    return found
