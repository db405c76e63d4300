"""Which endpoint a connection is for, named by its route template (``/items/{item_id}/ws``),
never by its path: a closed set, fit for metric labels and the live server page, where a path
would carry whatever a client put in it."""

from starlette.routing import Match
from starlette.types import Scope

UNROUTED = "other"


def endpoint_of(scope: Scope) -> str:
    """The template of the route serving ``scope``: the one routing chose, or, before routing
    (a middleware refusing the request), the route that would serve it."""
    route = scope.get("route")
    if route is None:
        router = getattr(scope.get("app"), "router", None)
        for candidate in getattr(router, "routes", ()):
            if candidate.matches(scope)[0] is Match.FULL:
                route = candidate
                break
    template = getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNROUTED
