"""Response headers for everything served over HTTP: security headers, and caching of the SPA."""

from collections.abc import Awaitable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only the app's own scripts, styles and sockets: an injected <script> or inline handler does
# not run, and the page cannot send data anywhere else. CSP level 3 lets 'self' match ws: and
# wss: on the page's own host, so the SPA's sockets need no host named here.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
# FastAPI's interactive API docs load Swagger UI from a CDN: no CSP there.
DOCS_PATHS = ("/docs", "/redoc")

# Vite names every file under assets/ by a hash of its content: a new build means a new name.
HASHED_ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class ResponseHeaders:
    """Pure ASGI middleware (no per-request task, and WebSockets pass straight through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: a WebSocket is handed on without a frame of ours staying
        # alive for the connection's lifetime (memory per idle connection counts).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._with_headers(scope, receive, send)

    async def _with_headers(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        is_hashed_asset = path.startswith(HASHED_ASSETS_PREFIX)
        is_docs = path.startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers and not (is_docs and name.startswith("Content-Sec")):
                        headers[name] = value
                if "cache-control" not in headers:
                    if is_hashed_asset and message["status"] == 200:
                        headers["Cache-Control"] = IMMUTABLE
                    elif headers.get("content-type", "").startswith("text/html"):
                        headers["Cache-Control"] = REVALIDATE
            await send(message)

        await self.app(scope, receive, send_with_headers)
