"""Production entry point: ``python -m app`` serves the API and the built SPA on one port.

It runs uvicorn with the project's settings, including the limits that uvicorn applies below
the app (message size, pings, compression) and its hardened protocol classes
(``app.server.protocols``). The uvicorn command line works too, without those.
"""

import logging

import uvicorn

from app.server.protocols import GuardedHttpProtocol, GuardedWebSocketProtocol
from app.settings import Settings, get_settings

logger = logging.getLogger("app")


def uvicorn_options(settings: Settings) -> dict[str, object]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "workers": settings.workers,
        # The default follows X-Forwarded-* only from loopback: correct behind a local proxy.
        "proxy_headers": True,
        "http": GuardedHttpProtocol,
        "ws": GuardedWebSocketProtocol,
        "ws_max_size": settings.ws_max_message_size,
        "ws_per_message_deflate": settings.ws_permessage_deflate,
        "ws_ping_interval": settings.ws_ping_interval,
        "ws_ping_timeout": settings.ws_ping_timeout,
        "timeout_graceful_shutdown": settings.graceful_shutdown_timeout,
    }


def main() -> None:
    settings = get_settings()
    if settings.workers > 1 and settings.redis_url is None:
        # Each worker would hold its own rooms: people on different workers would not meet.
        logging.basicConfig(format="%(levelname)s:     %(message)s")
        logger.warning(
            "APP_WORKERS=%d without APP_REDIS_URL: chat rooms are not shared between workers",
            settings.workers,
        )
    uvicorn.run("app.main:create_app", factory=True, **uvicorn_options(settings))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
