"""Log hygiene: a client's mistake is one line, not an error; credentials never reach the log."""

import logging
import re
from urllib.parse import unquote_plus

# uvicorn answers a text frame that is not UTF-8 with close code 1007, as RFC 6455 asks, but logs
# it with logger.exception(). Rewritten here rather than in a protocol subclass, which would have
# to copy uvicorn's receive path, and a test (test_live_server.py) notices if the wording changes.
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


def quiet_client_mistakes() -> None:
    for name, log_filter in (
        ("uvicorn.error", ClientMistakesAreNotErrors()),
        ("uvicorn.error", CredentialsRedacted()),
        ("uvicorn.access", CredentialsRedacted()),
    ):
        logger = logging.getLogger(name)
        if not any(type(existing) is type(log_filter) for existing in logger.filters):
            logger.addFilter(log_filter)
