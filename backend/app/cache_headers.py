"""Cache-Control for the built SPA: hashed assets forever, ``index.html`` always revalidated."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Vite names every file under assets/ by a hash of its content: a new build means a new name.
HASHED_ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class FrontendCacheHeaders:
    """Pure ASGI middleware (no per-request task, and WebSockets pass straight through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_hashed_asset = scope["path"].startswith(HASHED_ASSETS_PREFIX)

        async def send_with_cache_control(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    if is_hashed_asset and message["status"] == 200:
                        headers["Cache-Control"] = IMMUTABLE
                    elif headers.get("content-type", "").startswith("text/html"):
                        headers["Cache-Control"] = REVALIDATE
            await send(message)

        await self.app(scope, receive, send_with_cache_control)
