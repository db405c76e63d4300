"""The one conversation loop: every WebSocket endpoint runs through it with a handler of its own.

An endpoint says only what it does with a message (a ``Handler``); the loop reads frames, keeps
the rate, and speaks the connection's dialect around the handler: the guide's plain text,
``realtime.text.v1``, or ``realtime.json.v1`` with its ids, pings and typed errors.
"""

import re
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel, TypeAdapter
from starlette.websockets import WebSocketState

from app.conversation.dialects import Dialect, dialect_of
from app.conversation.frames import FrameReader
from app.conversation.messages import (
    Error,
    Ping,
    Pong,
    Reply,
    SendText,
    Welcome,
    client_message_adapter,
    parse_client_message,
)
from app.conversation.outlet import DEFAULT_LIMITS, Outlet, OutletLimits
from app.conversation.refusals import refuse
from app.observability.logs import connection_id
from app.observability.metrics import ClosedBy, EndpointStats, Metrics
from app.server.wire import WireFrame


@dataclass(frozen=True, slots=True)
class MessageLimits:
    """What one connection may send; built from the settings by ``create_app``."""

    max_bytes: int
    per_second: float
    burst: int
    # The longest text of a realtime.json.v1 `text` message, in characters.
    max_text_length: int = 16 * 1024


# A client's own key for its sends, which dedup is keyed by: told in `welcome`, given back by
# the client (`?sender_key=`) on every later connection, and never sent to anyone else.
SENDER_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def sender_key_of(websocket: WebSocket) -> str:
    given = websocket.query_params.get("sender_key")
    return given if given is not None and SENDER_KEY.match(given) else secrets.token_urlsafe(16)


class Conversation:
    """One connection's side of the talk: its dialect, and its outlet (where frames go)."""

    __slots__ = ("close_code", "dialect", "ended", "outlet", "sender_key", "stats", "websocket")

    def __init__(
        self, websocket: WebSocket, stats: EndpointStats, limits: OutletLimits = DEFAULT_LIMITS
    ) -> None:
        self.websocket = websocket
        self.dialect = dialect_of(websocket)
        self.stats = stats
        self.outlet = Outlet(websocket, stats, limits)
        self.ended = False
        # The code this side closed with, when it did.
        self.close_code: int | None = None
        self.sender_key = sender_key_of(websocket) if self.dialect is Dialect.JSON_V1 else ""

    @property
    def address(self) -> str | None:
        """The client's address (a trusted proxy's forwarding headers already applied)."""
        client = self.websocket.client
        return client.host if client else None

    async def send(self, text: str) -> None:
        """One text message to this client, in order with everything else it is sent."""
        await self.outlet.send(WireFrame(text))

    async def send_bytes(self, data: bytes) -> None:
        await self.outlet.send(WireFrame.of_bytes(data))

    async def accept(self) -> None:
        """Completes the handshake; a realtime.json.v1 client first learns its connection id,
        and the key its sends are recognised by."""
        if self.websocket.client_state == WebSocketState.CONNECTING:
            await self.websocket.accept(subprotocol=self.dialect.subprotocol)
            if self.dialect is Dialect.JSON_V1:
                welcome = Welcome(connection_id=connection_id() or "", sender_key=self.sender_key)
                await self.send(welcome.model_dump_json())

    async def reply(self, text: str, reply_to: str | None) -> None:
        """One of the endpoint's text messages, in this connection's dialect."""
        if self.dialect is Dialect.JSON_V1:
            await self.send(Reply(text=text, reply_to=reply_to).model_dump_json())
        else:
            await self.send(text)

    async def close(self, code: int, reason: str) -> None:
        """Ends the conversation with a code and a reason the client can read."""
        self.ended = True
        self.close_code = code
        await refuse(self.websocket, code, reason)


class Handler:
    """What an endpoint does with each message; by default it takes text only."""

    # The realtime.json.v1 messages it takes (a discriminated union with ``ping``); by default
    # the core's `text` and `ping`.
    client_messages: ClassVar[TypeAdapter[Any]] = client_message_adapter

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        raise NotImplementedError

    async def on_message(self, conversation: Conversation, message: BaseModel) -> None:
        """A realtime.json.v1 message other than ``ping``: a `text`, by default."""
        assert isinstance(message, SendText)
        await self.on_text(conversation, message.text, message.id)

    async def on_bytes(self, conversation: Conversation, data: bytes) -> None:
        await conversation.close(status.WS_1003_UNSUPPORTED_DATA, "this endpoint takes text only")


# Closed by the server even though the client's side reports it: a restart (SIGTERM).
SERVER_CODES = frozenset({1012})


async def serve_conversation(
    conversation: Conversation, handler: Handler, limits: MessageLimits, metrics: Metrics
) -> None:
    """Accepts (unless the caller did), then hands each message to ``handler`` until the
    client leaves or the conversation is ended."""
    # Few locals: this frame stays alive for as long as the connection does.
    websocket = conversation.websocket
    await conversation.accept()
    endpoint = conversation.stats.endpoint
    metrics.opened(endpoint, conversation.dialect.subprotocol)
    speaks_json = conversation.dialect is Dialect.JSON_V1
    reader = FrameReader(websocket, limits)
    try:
        while (frame := reader.frame(await websocket.receive())) is not None:
            conversation.stats.count_received(frame)
            if reader.wait:
                conversation.stats.throttled += 1
                await reader.throttle()
            if conversation.ended:  # closed by someone else meanwhile (a slow chat client)
                return
            if isinstance(frame, bytes):
                await handler.on_bytes(conversation, frame)
            elif speaks_json:
                await _take_json(conversation, handler, frame, limits)
            else:
                await handler.on_text(conversation, frame, None)
            if conversation.ended:
                return
    except WebSocketDisconnect as gone:
        reader.close_code = gone.code  # the client left while we were answering
    finally:
        conversation.outlet.close()
        _count_close(conversation, endpoint, reader.close_code, metrics)


def _count_close(
    conversation: Conversation, endpoint: str, client_code: int, metrics: Metrics
) -> None:
    subprotocol = conversation.dialect.subprotocol
    if conversation.close_code is not None:
        metrics.closed(endpoint, subprotocol, conversation.close_code, "server")
    else:
        by: ClosedBy = "server" if client_code in SERVER_CODES else "client"
        metrics.closed(endpoint, subprotocol, client_code, by)


async def _take_json(
    conversation: Conversation, handler: Handler, frame: str, limits: MessageLimits
) -> None:
    """One ``realtime.json.v1`` message."""
    # Checked here too for servers run without our protocol classes (a bare `uvicorn`), whose
    # own limit is 16 MiB. 4 bytes per character at most: most messages skip the encoding.
    max_bytes = limits.max_bytes
    if len(frame) * 4 > max_bytes and len(frame.encode()) > max_bytes:
        await conversation.close(
            status.WS_1009_MESSAGE_TOO_BIG, f"message too big: the limit is {max_bytes} bytes"
        )
        return
    message = parse_client_message(frame, handler.client_messages)
    if isinstance(message, Error):
        await conversation.send(message.model_dump_json())
    elif isinstance(message, Ping):
        await conversation.send(Pong(id=message.id, sent_at=message.sent_at).model_dump_json())
    elif isinstance(message, SendText) and len(message.text) > limits.max_text_length:
        error = Error(
            code="invalid_message",
            detail=f"text: at most {limits.max_text_length} characters",
            reply_to=message.id,
        )
        await conversation.send(error.model_dump_json())
    else:
        await handler.on_message(conversation, message)
