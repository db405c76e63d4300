"""The core messages of the ``realtime.json.v1`` subprotocol, which every endpoint speaks.

Each feature defines its own messages beside it (the chat's in ``app.features.chat``, the
channels' in ``app.channels.messages``); ``app.protocol`` assembles them all into
``docs/protocol.schema.json`` and the AsyncAPI document. The frontend's types
(``frontend/src/realtime/messages.ts``) are tested against that file, and a backend test fails
when the file no longer matches the models.
"""

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MessageId = Annotated[str, Field(min_length=1, max_length=64)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Client to server


class SendText(_Message):
    """A message for the endpoint, as a guide client would send it as plain text."""

    type: Literal["text"]
    id: MessageId
    # At most APP_WS_MAX_TEXT_LENGTH characters (checked by the loop; GET /api/config says).
    text: str


class Ping(_Message):
    """Asks for a ``pong``: the client measures round trips and notices a dead connection."""

    type: Literal["ping"]
    id: MessageId
    # The client's clock, in milliseconds; echoed unchanged so it needs no bookkeeping.
    sent_at: float


ClientMessage = Annotated[SendText | Ping, Field(discriminator="type")]


# Server to client


class Reply(_Message):
    """One of the guide's text messages, for example ``Message text was: X``."""

    type: Literal["text"] = "text"
    text: str
    # The ``id`` of the client's message that this answers.
    reply_to: str | None


class Welcome(_Message):
    """The first message on a connection: its id, which the server's log lines carry too, and
    the key its sends are recognised by when sent again (``sender_key``): the client gives it
    back as ``?sender_key=`` on its later connections, and tells it nobody."""

    type: Literal["welcome"] = "welcome"
    connection_id: str
    sender_key: str


class Pong(_Message):
    type: Literal["pong"] = "pong"
    id: str
    sent_at: float


# room_unavailable: the chat's room cannot take messages now (its broker is away); the client
# sends the message again, with the same id, a little later. The channels' codes (the
# multiplexed endpoint): unknown_channel, forbidden (may not follow or publish to it),
# too_many_channels (APP_CHANNELS_PER_CONNECTION), channels_full (the server keeps as many as it
# may: try again later), invalid_payload (does not fit the channel's model), not_subscribed
# (publishing as a member needs a subscription), channel_unavailable (send it again later).
ErrorCode = Literal[
    "invalid_json",
    "unknown_type",
    "invalid_message",
    "room_unavailable",
    "unknown_channel",
    "forbidden",
    "too_many_channels",
    "channels_full",
    "invalid_payload",
    "not_subscribed",
    "channel_unavailable",
]


class Error(_Message):
    """A client message the server could not take; the connection stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str
    reply_to: str | None


client_message_adapter: TypeAdapter[SendText | Ping] = TypeAdapter(ClientMessage)
CORE_SERVER_MESSAGES = (Welcome, Reply, Pong, Error)


def parse_client_message(raw: str, adapter: TypeAdapter[Any] = client_message_adapter) -> Any:
    """The message, or the typed error to send back when it is not one."""
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        return _error_for(raw, exc)


def _error_for(raw: str, exc: ValidationError) -> Error:
    first = exc.errors(include_url=False)[0]
    reply_to = _id_of(raw)
    if first["type"] == "json_invalid":
        return Error(code="invalid_json", detail="not valid JSON", reply_to=None)
    if first["type"] == "union_tag_invalid":
        expected = first.get("ctx", {}).get("expected_tags", "")
        return Error(
            code="unknown_type",
            detail=f"unknown message type; expected one of {expected}",
            reply_to=reply_to,
        )
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:]) or 'message'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )
    return Error(code="invalid_message", detail=problems, reply_to=reply_to)


def _id_of(raw: str) -> str | None:
    """The message's id, when it has a usable one, so that the client can match the error."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):  # nested deeper than json goes (pydantic refused it)
        return None
    candidate = message.get("id") if isinstance(message, dict) else None
    return candidate if isinstance(candidate, str) and 0 < len(candidate) <= 64 else None
