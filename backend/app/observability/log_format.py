"""Structured logs (``APP_LOG_FORMAT=json``): one JSON object per line, with the connection id.

Every WebSocket and HTTP request gets a short connection id, kept in a context variable for as
long as the app serves it; log lines written meanwhile carry it, and a ``realtime.json.v1``
client is told it (``welcome``), so that a user's report can be matched to the server's lines.
Credentials never get here: the filters of ``app.quiet_logs`` redact them first.
"""

import copy
import itertools
import json
import logging
import secrets
import time
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

# (number, path) of the connection being served. Not a key in the scope: a scope with one key
# more than uvicorn and FastAPI put in it grows its table, a cost every idle connection pays.
current_connection: ContextVar[tuple[int, str] | None] = ContextVar(
    "current_connection", default=None
)
# Ids are this process's prefix and a count: unique across processes, and cheaper to keep
# for every open connection than a random string each.
PROCESS_PREFIX = secrets.token_hex(2)
_numbers = itertools.count(1)


def format_connection_id(number: int) -> str:
    return f"{PROCESS_PREFIX}{number:04x}"


def connection_id() -> str | None:
    current = current_connection.get()
    return None if current is None else format_connection_id(current[0])


class ConnectionIds:
    """Pure ASGI middleware: a fresh id for each connection's context (no frame of its own
    stays alive for a WebSocket)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket"):
            current_connection.set((next(_numbers), scope["path"]))
        return self.app(scope, receive, send)


class JsonFormatter(logging.Formatter):
    """level, logger, message, and where known, the connection id, endpoint and close code."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := current_connection.get()) is not None:
            line["connection_id"] = format_connection_id(current[0])
            line["endpoint"] = current[1]
        close_code = getattr(record, "close_code", None)
        if close_code is not None:
            line["close_code"] = close_code
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(levelname)-9s %(name)s: %(message)s"


def use_format(log_format: str, loggers: list[logging.Logger]) -> None:
    """Puts the chosen formatter on every handler of these loggers."""
    formatter: logging.Formatter = (
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    for logger in loggers:
        for handler in logger.handlers:
            handler.setFormatter(formatter)


def uvicorn_log_config(log_format: str) -> dict[str, object]:
    """uvicorn's own logging configuration, in the chosen format."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    if log_format == "json":
        for formatter in config["formatters"].values():
            formatter.clear()
            formatter["()"] = "app.observability.log_format.JsonFormatter"
    return config
