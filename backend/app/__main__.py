"""Production entry point: ``python -m app`` serves the API and the built SPA on one port."""

import logging

import uvicorn

from app.settings import get_settings

logger = logging.getLogger("app")


def main() -> None:
    settings = get_settings()
    if settings.workers > 1 and settings.redis_url is None:
        # Each worker would hold its own rooms: people on different workers would not meet.
        logging.basicConfig(format="%(levelname)s:     %(message)s")
        logger.warning(
            "APP_WORKERS=%d without APP_REDIS_URL: chat rooms are not shared between workers",
            settings.workers,
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        workers=settings.workers,
        # The default follows X-Forwarded-* only from loopback: correct behind a local proxy.
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
