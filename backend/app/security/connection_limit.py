"""A cap on the WebSockets one process holds: past it, new ones get HTTP 503, never a crash.

Without it, a flood of idle sockets runs the process out of file descriptors, and then it
fails everyone (accept() errors, no file for a static asset, no socket to Redis).
"""

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from app.security.denial import deny_websocket

logger = logging.getLogger(__name__)


class ConnectionLimit:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        if self.open >= self.limit:
            logger.warning("refused %s: %d WebSockets open, the limit", scope["path"], self.open)
            await deny_websocket(send, 503, "server busy: too many connections, try again later")
            return
        self.open += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
