"""The application factory: ``uvicorn app.main:create_app --factory``."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.chat.broker import Broker, InMemoryBroker
from app.chat.hub import ChatHub
from app.chat.redis_broker import RedisBroker
from app.quiet_logs import quiet_client_mistakes
from app.refusals import install_refusal_handlers
from app.routes import chat, echo, health, items, session, tokens
from app.security.headers import ResponseHeaders
from app.security.origins import OriginCheck
from app.server.shutdown import Readiness, drain_on_sigterm
from app.settings import Settings, get_settings

logger = logging.getLogger("app")


def configure_logging(settings: Settings) -> None:
    """Give the app's own logger uvicorn's look and level (uvicorn configures only its own)."""
    level = logging.DEBUG if settings.log_level == "trace" else settings.log_level.upper()
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    quiet_client_mistakes()


def build_broker(settings: Settings) -> Broker:
    if settings.redis_url is None:
        return InMemoryBroker()
    return RedisBroker(
        settings.redis_url, control_channel="chat:control", presence_ttl=settings.chat_presence_ttl
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub: ChatHub = app.state.chat_hub
    settings: Settings = app.state.settings
    restore_sigterm = drain_on_sigterm(app.state.readiness, settings.shutdown_drain_seconds)
    await hub.start()
    try:
        yield
    finally:
        restore_sigterm()
        await hub.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    app = FastAPI(title="FastAPI + React real-time", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    app.state.settings = settings
    app.state.readiness = Readiness()
    app.state.chat_hub = ChatHub(
        build_broker(settings),
        outbox_limit=settings.chat_outbox_limit,
        presence_interval=settings.chat_presence_ttl / 3,
    )
    install_refusal_handlers(app)
    app.add_middleware(ResponseHeaders)
    app.add_middleware(OriginCheck, allowed_origins=settings.allowed_origins)

    app.include_router(echo.router)
    app.include_router(items.router)
    app.include_router(chat.router)
    app.include_router(health.router)
    app.include_router(session.router)
    app.include_router(tokens.router)

    # Last, and lowest in priority: the SPA, with index.html for client-side routes. Under
    # /assets/ only real files: a missing one is a 404 even for a browser navigation, never
    # the page with the asset's year-long cache lifetime.
    if (settings.frontend_dir / "index.html").is_file():
        if (settings.frontend_dir / "assets").is_dir():
            app.frontend("/assets", directory=settings.frontend_dir / "assets", fallback=None)
        app.frontend("/", directory=settings.frontend_dir, fallback="index.html")
    else:
        logger.warning(
            "no frontend build in %s: run `npm run build` (in development, Vite serves it)",
            settings.frontend_dir,
        )
    return app
