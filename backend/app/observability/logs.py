"""Logging, configured in this one place: the app's and uvicorn's loggers, in one format.

- ``APP_LOG_FORMAT=json`` writes one JSON object per line (uvicorn's own lines included) with,
  where known, the connection id, the endpoint and a close code;
- every WebSocket and HTTP request gets a short connection id, kept in a context variable for
  as long as the app serves it; log lines written meanwhile carry it, and a
  ``realtime.json.v1`` client is told it (``welcome``), so that a user's report can be matched
  to the server's lines;
- credentials never reach the log: the filters below redact them from every line first;
- a client's mistake is one INFO line, not an error with a traceback.

``configure_app_logging`` is called by ``create_app``; ``uvicorn_log_config`` is handed to
uvicorn by ``python -m app``.
"""

import copy
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote_plus

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
            formatter["()"] = "app.observability.logs.JsonFormatter"
    return config


# uvicorn answers a text frame that is not UTF-8 with close code 1007, as RFC 6455 asks, but logs
# it with logger.exception(). Rewritten here, where every line passes anyway; the contract test
# over real sockets (tests/routes/test_contract_live.py) notices if uvicorn's wording changes.
INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


class ClientMistakesAreNotErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == INVALID_UTF8:
            record.msg = "client sent a text message that is not UTF-8: closed with 1007"
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


# uvicorn logs each request and WebSocket with its query string: `?token=...` and `?ticket=...`
# are credentials, and so is a parameter whose name is percent-encoded (`?%74oken=...`), which
# the app decodes into the same `token`.
CREDENTIAL_PARAMETERS = frozenset({"token", "ticket", "session", "sender_key"})
QUERY_PARAMETER = re.compile(r"([?&])([^=&\s\"]*)=([^&\s\"]*)")


def _redacted_parameter(match: re.Match[str]) -> str:
    separator, name, _value = match.groups()
    if unquote_plus(name).strip().lower() in CREDENTIAL_PARAMETERS:
        return f"{separator}{name}=[redacted]"
    return match.group(0)


def redact_query(text: str) -> str:
    return QUERY_PARAMETER.sub(_redacted_parameter, text)


# At debug level the websockets library logs each handshake header as ("< %s: %s", name, value).
CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "authorization"})


class CredentialsRedacted(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.args, tuple):
            return True
        if (
            len(record.args) == 2
            and isinstance(record.args[0], str)
            and record.args[0].lower() in CREDENTIAL_HEADERS
        ):
            record.args = (record.args[0], "[redacted]")
        else:
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def _install_filters() -> None:
    for name, log_filter in (
        ("uvicorn.error", ClientMistakesAreNotErrors()),
        ("uvicorn.error", CredentialsRedacted()),
        ("uvicorn.access", CredentialsRedacted()),
    ):
        logger = logging.getLogger(name)
        if not any(type(existing) is type(log_filter) for existing in logger.filters):
            logger.addFilter(log_filter)


def configure_app_logging(level_name: str, log_format: str) -> None:
    """The app's own logger with uvicorn's look and level (uvicorn configures only its own), and
    the filters on uvicorn's. Idempotent: every app built in a process calls it."""
    app_logger = logging.getLogger("app")
    level = logging.DEBUG if level_name == "trace" else level_name.upper()
    app_logger.setLevel(level)
    if not app_logger.handlers:
        app_logger.addHandler(logging.StreamHandler())
        app_logger.propagate = False
    use_format(log_format, [app_logger])
    _install_filters()
