"""Production entry point: ``python -m app`` serves the API and the built SPA on one port."""

import uvicorn

from app.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # The default follows X-Forwarded-* only from loopback: correct behind a local proxy.
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
