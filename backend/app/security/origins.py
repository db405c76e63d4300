"""The Origin check at the WebSocket handshake (cross-site WebSocket hijacking).

Browsers send cookies with a WebSocket handshake to any site and do not apply CORS to it, so
without this check a page on any origin could open ``/items/{item_id}/ws`` with a visitor's
``session`` cookie and read the answers. A browser always sends ``Origin``; a client without
one is not a browser and has no visitor's cookies to abuse, so it passes.
"""

import logging
from collections.abc import Awaitable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.observability.endpoints import endpoint_of
from app.vocabulary.refusals import OnRefused

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host_and_port(netloc: str, scheme: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or ""), port if port is not None else DEFAULT_PORTS.get(scheme)


def is_same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether ``origin`` names the host the request was sent to (the page's own origin)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    origin_host, origin_port = _host_and_port(parts.netloc, parts.scheme)
    request_host, request_port = _host_and_port(host, scheme)
    if not origin_host or origin_host != request_host:
        return False
    # Behind a TLS proxy the request may arrive as ws:// on the default port while the page
    # is https://: a Host header without a port accepts the origin scheme's default port.
    if ":" not in host.rsplit("]", 1)[-1]:
        return parts.port is None or parts.port == DEFAULT_PORTS[parts.scheme]
    return origin_port == request_port


# The allowlist entry that stands for the page's own origin (whatever host it is served on).
SAME_ORIGIN = "self"


class OriginPolicy:
    """Which page origins may open sockets: the page's own, and ``APP_ALLOWED_ORIGINS``."""

    def __init__(self, allowed_origins: list[str]) -> None:
        self.allowed = {origin.lower().rstrip("/") for origin in allowed_origins}

    def entry_for(self, origin: str, host: str, scheme: str) -> str | None:
        """The entry that admits ``origin`` (``SAME_ORIGIN`` or one of the allowlist), None
        when it is not allowed. What a ticket keeps: never the raw header, which a client
        could make as long as it likes."""
        normalized = origin.lower().rstrip("/")
        if normalized in self.allowed:
            return normalized
        if is_same_origin(normalized, host.lower(), scheme):
            return SAME_ORIGIN
        return None


class OriginCheck:
    """Pure ASGI middleware: refuses a WebSocket from a foreign origin with HTTP 403."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: OriginPolicy,
        on_refused: OnRefused | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.on_refused = on_refused

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: an allowed connection is handed on without a frame of ours
        # staying alive for its lifetime (memory per idle connection counts).
        if scope["type"] == "websocket":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.allows(origin, headers.get("host", ""), scope):
                logger.info("refused %s: origin %s is not allowed", scope["path"], origin[:100])
                if self.on_refused is not None:
                    self.on_refused("origin", endpoint_of(scope))
                # Closed before accept: uvicorn answers the handshake with HTTP 403.
                return send({"type": "websocket.close", "code": 1008})
        return self.app(scope, receive, send)

    def allows(self, origin: str, host: str, scope: Scope) -> bool:
        return self.policy.entry_for(origin, host, scope.get("scheme", "ws")) is not None
