"""How a WebSocket is refused: the right close code, and a reason the client can show."""

import logging
from collections.abc import Callable

from fastapi import FastAPI, WebSocketException, status
from fastapi.exceptions import WebSocketRequestValidationError
from starlette.websockets import WebSocket, WebSocketState

from app.conversation.dialects import Dialect, dialect_of
from app.observability.metrics import RefusalReason

logger = logging.getLogger(__name__)

# RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of them the code.
MAX_CLOSE_REASON_BYTES = 123


def clip_close_reason(reason: str) -> str:
    """The reason cut to what fits in a close frame, never splitting a character."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Close the connection with ``code`` and ``reason``.

    Before accept, a plain client (the guide's) is refused at the handshake, which uvicorn
    answers with HTTP 403. A client that negotiated one of our subprotocols is accepted first,
    so that it reads the code and reason in a close frame.
    """
    logger.info("refused %s: %s %s", websocket.url.path, code, reason)
    dialect = dialect_of(websocket)
    if websocket.client_state == WebSocketState.CONNECTING and dialect is not Dialect.GUIDE:
        await websocket.accept(subprotocol=dialect.subprotocol)
    await websocket.close(code=code, reason=clip_close_reason(reason))


class CredentialRefused(WebSocketException):
    """A handshake refused for its credentials (counted apart from other refusals)."""


# Told of each refusal: (why, as a metrics label; the endpoint's path).
OnRefused = Callable[[RefusalReason, str], None]


def install_refusal_handlers(app: FastAPI, on_refused: OnRefused) -> None:
    async def on_websocket_exception(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        kind: RefusalReason = "credentials" if isinstance(exc, CredentialRefused) else "policy"
        on_refused(kind, websocket.url.path)
        await refuse(websocket, exc.code, exc.reason)

    async def on_websocket_validation_error(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketRequestValidationError)
        on_refused("invalid_request", websocket.url.path)
        # ("query", "q") -> "q": the parameter the user can fix
        problems = (
            f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}"
            for error in exc.errors()
        )
        await refuse(websocket, status.WS_1008_POLICY_VIOLATION, "; ".join(problems))

    app.add_exception_handler(WebSocketException, on_websocket_exception)
    app.add_exception_handler(WebSocketRequestValidationError, on_websocket_validation_error)
