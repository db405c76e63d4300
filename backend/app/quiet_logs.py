"""A client's mistake is the client's, not the server's: one line, not an error with a traceback."""

import logging

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


def quiet_client_mistakes() -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ClientMistakesAreNotErrors) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(ClientMistakesAreNotErrors())
