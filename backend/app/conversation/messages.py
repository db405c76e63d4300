"""The messages of the ``realtime.json.v1`` subprotocol, defined once, here.

``docs/protocol.schema.json`` is generated from these models
(``python -m app.conversation.messages``); the
frontend's types in ``frontend/src/realtime/messages.ts`` are tested against that file, and a
backend test fails when the file no longer matches these models.
"""

import json
import sys
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.rooms.events import NotRecovered

# The longest text a client may send in one message; the frontend learns it from GET /api/config.
MAX_TEXT_LENGTH = 16 * 1024

MessageId = Annotated[str, Field(min_length=1, max_length=64)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Client to server


class SendText(_Message):
    """A message for the endpoint, as a guide client would send it as plain text."""

    type: Literal["text"]
    id: MessageId
    text: Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]


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
# sends the message again, with the same id, a little later.
ErrorCode = Literal["invalid_json", "unknown_type", "invalid_message", "room_unavailable"]


class Error(_Message):
    """A client message the server could not take; the connection stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str
    reply_to: str | None


# Chat (WS /ws/{client_id}). Each event of a room carries its position: an offset, gapless and
# increasing, within an epoch that changes when the room's history is lost.


class _RoomEvent(_Message):
    room: str
    client_id: int
    # When the room took it, in milliseconds since the epoch.
    at: float
    epoch: str
    offset: int


class ChatText(_RoomEvent):
    """A client said something in the room (the guide's ``Client #A says: X``)."""

    type: Literal["chat"] = "chat"
    text: str
    # The id the sender gave the message, so that it recognises its own.
    message_id: str | None


class Joined(_RoomEvent):
    type: Literal["joined"] = "joined"


class Left(_RoomEvent):
    """A client left the room (the guide's ``Client #A left the chat``)."""

    type: Literal["left"] = "left"


class Ack(_Message):
    """The room holds the sender's message, at this position (a second send of it gets the
    same answer, and is not placed twice)."""

    type: Literal["ack"] = "ack"
    reply_to: str
    room: str
    epoch: str
    offset: int


class Sync(_Message):
    """Ends the history a member got on joining (or after the broker returned): from here on,
    live events. ``recovered``: it got every event since the position it gave; otherwise
    ``reason`` says why not, and it got the recent history instead."""

    type: Literal["sync"] = "sync"
    room: str
    epoch: str
    offset: int
    recovered: bool
    reason: NotRecovered | None
    # How many events came before this, from the history.
    replayed: int


class Presence(_Message):
    """Who is in the room, in every process; sent on joining and whenever it changes."""

    type: Literal["presence"] = "presence"
    room: str
    online: list[int]
    # False while the broker is away: then only who this process knows of is listed.
    complete: bool


# The live server page (WS /api/live): what this process sees, once a second.


class EndpointNow(_Message):
    endpoint: str
    open: int
    received_per_second: float
    sent_per_second: float


class RecentHappening(_Message):
    # Seconds since the epoch.
    at: float
    endpoint: str
    what: str


class BrokerNow(_Message):
    kind: Literal["memory", "redis"]
    connected: bool


class ServerStats(_Message):
    type: Literal["server_stats"] = "server_stats"
    # Which process this is (host/pid): with several, each page shows the one it reached.
    process: str
    endpoints: list[EndpointNow]
    broker: BrokerNow
    disconnects: list[RecentHappening]
    refusals: list[RecentHappening]


ServerMessages = (
    Welcome | Reply | Pong | Error | ChatText | Joined | Left | Ack | Sync | Presence | ServerStats
)
ServerMessage = Annotated[ServerMessages, Field(discriminator="type")]

client_message_adapter: TypeAdapter[SendText | Ping] = TypeAdapter(ClientMessage)
server_message_adapter: TypeAdapter[ServerMessages] = TypeAdapter(ServerMessage)


def parse_client_message(raw: str) -> SendText | Ping | Error:
    """The message, or the typed error to send back when it is not one."""
    try:
        return client_message_adapter.validate_json(raw)
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
    except ValueError:
        return None
    candidate = message.get("id") if isinstance(message, dict) else None
    return candidate if isinstance(candidate, str) and 0 < len(candidate) <= 64 else None


def protocol_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "realtime.json.v1",
        "description": (
            "Generated from backend/app/conversation/messages.py"
            " by `python -m app.conversation.messages`."
        ),
        "client_to_server": client_message_adapter.json_schema(mode="validation"),
        "server_to_client": server_message_adapter.json_schema(mode="serialization"),
    }


if __name__ == "__main__":
    json.dump(protocol_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
