"""The entry point, in production and in development.

``python -m app`` serves the API and the built SPA on one port: uvicorn with the project's
hardened protocol classes (``app.server.protocols``), which take their limits from the app.
``python -m app --reload`` is the same road for development (``npm run dev``), restarting after
each change to the app's code.
``python -m app token SUBJECT [--role ROLE]`` prints a signed token (with ``APP_TOKEN_SECRET``
set); ``--role operator`` makes one that opens /metrics and the live server page.
"""

import argparse
import asyncio
import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn

from app.observability.logs import configure_app_logging, uvicorn_log_config
from app.security.principal import ROLES
from app.security.tokens import issue_token
from app.server.protocols import GuardedHttpProtocol, GuardedWebSocketProtocol
from app.settings import Settings

logger = logging.getLogger("app")

APP_PACKAGE = Path(__file__).resolve().parent


def uvicorn_options(settings: Settings, reload: bool = False) -> dict[str, object]:
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "workers": settings.workers,
        # The default follows X-Forwarded-* only from loopback: correct behind a local proxy.
        "proxy_headers": True,
        "http": GuardedHttpProtocol,
        "ws": GuardedWebSocketProtocol,
        "timeout_graceful_shutdown": settings.graceful_shutdown_timeout,
        "log_config": uvicorn_log_config(settings.log_format),
    }
    if reload:
        # Development: one process, restarted after each saved change to the app's code.
        options.update(workers=1, reload=True, reload_dirs=[str(APP_PACKAGE)])
    return options


def share_metrics_between_workers(settings: Settings) -> None:
    """Each worker writes its metrics to files in one folder that /metrics adds up
    (prometheus-client's multiprocess mode): ``APP_METRICS_DIR``, or a folder of its own.
    Handed on before any worker starts, to the workers' settings, and to prometheus-client,
    which reads its own variable once, when it is first imported."""
    folder = settings.metrics_dir
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="app-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["APP_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


WORKERS_NEED_REDIS = (
    "APP_WORKERS={workers} needs APP_REDIS_URL: each worker would keep its own tickets and "
    "rooms, so a ticket issued by one worker would be refused by another, and people on "
    "different workers would not meet. Set APP_REDIS_URL (or APP_REDIS_SENTINELS, "
    "APP_REDIS_CLUSTER), or run one worker per process."
)


def serve(settings: Settings, reload: bool = False) -> None:
    if reload and settings.workers > 1:
        configure_app_logging(settings.log_level, settings.log_format)
        logger.warning("--reload runs one process: APP_WORKERS=%d is ignored", settings.workers)
    elif settings.workers > 1 and settings.redis_topology() is None:
        sys.exit(f"error: {WORKERS_NEED_REDIS.format(workers=settings.workers)}")
    if (settings.workers > 1 and not reload) or settings.metrics_dir is not None:
        share_metrics_between_workers(settings)
    # An import string, so that each worker builds its own app (from the same environment).
    options = uvicorn_options(settings, reload)
    uvicorn.run("app.main:create_app", factory=True, **options)  # type: ignore[arg-type]


def publish_from_a_shell(
    settings: Settings, channel: str, data: str, idempotency_key: str | None
) -> int:
    """``python -m app publish``: for scripts and cron, through the app's Redis, or, without
    one, through the running server's own HTTP publish (a publisher's token signed with
    ``APP_TOKEN_SECRET``). The exit status says whether it reached the channel (0; 1: nothing
    was placed, try again; 2: it never could be); the position is printed."""
    from app.channels.events import ChannelUnavailable
    from app.channels.publisher import InvalidPayload, UnknownChannel, publish_elsewhere
    from app.main import build_registry

    try:
        payload = json.loads(data)
    except ValueError:
        print("error: the payload is not JSON", file=sys.stderr)
        return 2
    if not isinstance(payload, dict):
        print("error: the payload must be a JSON object", file=sys.stderr)
        return 2
    topology = settings.redis_topology()
    if topology is None:
        return publish_over_http(settings, channel, payload, idempotency_key)
    try:
        position = asyncio.run(
            publish_elsewhere(
                build_registry(settings),
                topology,
                channel,
                payload,
                origin=f"shell/{os.getpid()}",
                idempotency_key=idempotency_key,
            )
        )
    except (UnknownChannel, InvalidPayload) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ChannelUnavailable as exc:
        print(f"error: nothing was published: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"channel": channel, "epoch": position.epoch, "offset": position.offset}))
    return 0


def publish_over_http(
    settings: Settings, channel: str, payload: dict[str, object], idempotency_key: str | None
) -> int:
    """Without Redis, the running server (``APP_HOST``, ``APP_PORT``) is the only one holding
    its channels: the shell asks it as another service would, ``POST
    /api/channels/{name}/events`` with a publisher's token of its own, valid for a minute."""
    from urllib.error import HTTPError, URLError
    from urllib.parse import quote
    from urllib.request import Request, urlopen

    from app.security.tokens import issue_token

    if settings.token_secret is None:
        print(
            "error: without Redis (APP_REDIS_URL, APP_REDIS_SENTINELS or APP_REDIS_CLUSTER) a "
            "shell publishes through the running server's HTTP API, which takes a publisher's "
            "token signed with APP_TOKEN_SECRET: set it as the server has it",
            file=sys.stderr,
        )
        return 2
    token = issue_token(
        settings.token_secret.get_secret_value(), "shell", 60, roles=("publisher",)
    ).token
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    url = f"http://{host}:{settings.port}/api/channels/{quote(channel, safe=':@')}/events"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    request = Request(
        url, data=json.dumps({"data": payload}).encode(), headers=headers, method="POST"
    )
    try:
        with urlopen(request, timeout=10) as response:  # noqa: S310
            answer = json.loads(response.read())
    except HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail", exc.reason)
        except ValueError:
            detail = exc.reason
        print(f"error: the server answered {exc.code}: {detail}", file=sys.stderr)
        return 1 if exc.code == 503 else 2
    except (URLError, OSError) as exc:
        print(f"error: nothing was published: no server answers at {url} ({exc})", file=sys.stderr)
        return 1
    print(json.dumps({key: answer[key] for key in ("channel", "epoch", "offset")}))
    return 0


def routes_of_the_app(settings: Settings) -> dict[str, list[str]]:
    """What the dev proxy forwards to uvicorn: every WebSocket route, as the app has them, and
    the HTTP prefixes (every HTTP route of the app is under ``/api``, but ``/metrics``)."""
    from fastapi.routing import APIWebSocketRoute

    from app.main import create_app

    app = create_app(settings.model_copy(update={"frontend_dir": Path("/nonexistent")}))
    websockets = [route.path for route in app.routes if isinstance(route, APIWebSocketRoute)]
    return {"websocket": websockets, "http": ["/api", "/metrics"]}


def print_asyncapi(settings: Settings, *, markdown: bool) -> None:
    """The document of the app as `python -m app` builds it (docs/asyncapi.json, .md)."""
    from app.asyncapi import asyncapi_document, asyncapi_markdown
    from app.main import create_app

    app = create_app(settings.model_copy(update={"frontend_dir": Path("/nonexistent")}))
    document = asyncapi_document(app)
    if markdown:
        sys.stdout.write(asyncapi_markdown(document))
    else:
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reload",
        action="store_true",
        help="development: restart after each change to the app's code (one process)",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the app (the default)")
    token = commands.add_parser("token", help="print a signed token (needs APP_TOKEN_SECRET)")
    token.add_argument("subject", help="who the token is for; the endpoint shows it")
    token.add_argument(
        "--role",
        action="append",
        choices=sorted(ROLES),
        help="what it may do (repeatable; default: user). operator opens /metrics",
    )
    token.add_argument("--ttl", type=float, help="lifetime in seconds (default APP_TOKEN_TTL)")
    publish = commands.add_parser(
        "publish",
        help="publish to a channel, through the app's Redis (or, without one, the running "
        "server's HTTP API, with APP_TOKEN_SECRET)",
    )
    publish.add_argument("channel", help="the channel's name, e.g. announcements")
    publish.add_argument("data", help='the payload, as JSON: \'{"text": "Back at noon"}\'')
    publish.add_argument("--idempotency-key", help="the same key again publishes nothing more")
    commands.add_parser(
        "routes", help="print the app's WebSocket routes and HTTP prefixes, as JSON (the dev proxy)"
    )
    asyncapi = commands.add_parser("asyncapi", help="print the AsyncAPI document of the app")
    asyncapi.add_argument("--markdown", action="store_true", help="as a page to read")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "publish":
        sys.exit(publish_from_a_shell(settings, args.channel, args.data, args.idempotency_key))
    if args.command == "routes":
        print(json.dumps(routes_of_the_app(settings)))
        return
    if args.command == "asyncapi":
        print_asyncapi(settings, markdown=args.markdown)
        return
    if args.command == "token":
        if settings.token_secret is None:
            token.error("APP_TOKEN_SECRET is not set: token verification is off")
        secret = settings.token_secret.get_secret_value()
        roles = tuple(args.role or ["user"])
        print(issue_token(secret, args.subject, args.ttl or settings.token_ttl, roles=roles).token)
    else:
        serve(settings, reload=args.reload)


if __name__ == "__main__":
    main()
