"""How a WebSocket is refused: the right close code, and a reason the client can show."""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, WebSocketException, status
from fastapi.exceptions import WebSocketRequestValidationError
from starlette.websockets import WebSocket, WebSocketState

from app.conversation.dialects import Dialect, dialect_of
from app.observability.endpoints import endpoint_of
from app.vocabulary.refusals import CredentialRefused, OnRefused, RefusalReason, clip_close_reason

logger = logging.getLogger(__name__)


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Close the connection with ``code`` and ``reason``.

    Before accept, a plain client (the guide's) is refused at the handshake, which uvicorn
    answers with HTTP 403. A client that negotiated one of our subprotocols is accepted first,
    so that it reads the code and reason in a close frame.
    """
    logger.info("refused %s: %s %s", websocket.url.path, code, reason, extra={"close_code": code})
    dialect = dialect_of(websocket)
    if websocket.client_state == WebSocketState.CONNECTING and dialect is not Dialect.GUIDE:
        await websocket.accept(subprotocol=dialect.subprotocol)
    await websocket.close(code=code, reason=clip_close_reason(reason))


# A parameter's problem in words a person can act on, for the errors a URL can cause.
PROBLEMS = {
    "int_parsing": "must be a whole number, such as 3",
    "int_from_float": "must be a whole number, such as 3",
    "missing": "is required",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_too_short": "is too short: at least {min_length} characters",
}


def problem_of(error: Mapping[str, Any]) -> str:
    """``q: must be a whole number, such as 3``: the parameter the user can fix (its location
    without "query" or "path"), and what is wrong with it; pydantic's words for the rest."""
    where = ".".join(str(part) for part in error["loc"][1:])
    words = PROBLEMS.get(error["type"])
    if words is None:
        return f"{where}: {error['msg']}"
    return f"{where} {words.format(**error.get('ctx', {}))}"


def install_refusal_handlers(app: FastAPI, on_refused: OnRefused) -> None:
    async def on_websocket_exception(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        kind: RefusalReason = "credentials" if isinstance(exc, CredentialRefused) else "policy"
        on_refused(kind, endpoint_of(websocket.scope))
        await refuse(websocket, exc.code, exc.reason)

    async def on_websocket_validation_error(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketRequestValidationError)
        on_refused("invalid_request", endpoint_of(websocket.scope))
        problems = (problem_of(error) for error in exc.errors())
        await refuse(websocket, status.WS_1008_POLICY_VIOLATION, "; ".join(problems))

    app.add_exception_handler(WebSocketException, on_websocket_exception)
    app.add_exception_handler(WebSocketRequestValidationError, on_websocket_validation_error)
