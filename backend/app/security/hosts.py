"""The Host allowlist: a request for a name this server does not answer to is refused.

DNS rebinding works like this: a page on attacker.example, once loaded, has its name re-pointed
to 127.0.0.1, and then its scripts talk to a server on the visitor's own machine as if it were
their own origin (the Origin check passes, since the page's origin is the name they requested).
The one thing that gives it away is the ``Host`` header, which still names attacker.example. So
only the names in ``APP_ALLOWED_HOSTS`` are served; by default, those of this machine's
loopback (and the address the server listens on). Behind a proxy, add the public name.
"""

import logging
from collections.abc import Awaitable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.observability.endpoints import endpoint_of
from app.vocabulary.refusals import OnRefused

logger = logging.getLogger(__name__)

NOT_SERVED = "this server does not answer to that host name (APP_ALLOWED_HOSTS)\n"


def host_name(host_header: str) -> str:
    """The name of a Host header, without its port: "[::1]:8000" -> "::1"."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostCheck:
    """Pure ASGI middleware (not a coroutine itself: a WebSocket it admits keeps no frame of
    ours alive). A refused WebSocket is closed before accept, which uvicorn answers with 403."""

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: list[str], on_refused: OnRefused | None = None
    ) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed = frozenset(host.lower() for host in allowed_hosts)
        self.on_refused = on_refused

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if self.any_host or scope["type"] not in ("http", "websocket"):
            return self.app(scope, receive, send)
        name = host_name(Headers(scope=scope).get("host", ""))
        if name in self.allowed:
            return self.app(scope, receive, send)
        logger.info(
            "refused %s: host %r is not one this server answers to", scope["path"], name[:100]
        )
        if self.on_refused is not None:
            self.on_refused("host", endpoint_of(scope))
        if scope["type"] == "websocket":
            return send({"type": "websocket.close", "code": 1008})
        return PlainTextResponse(NOT_SERVED, status_code=400)(scope, receive, send)
