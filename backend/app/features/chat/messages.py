"""The chat's ``realtime.json.v1`` messages on ``WS /ws/{client_id}``: each event of a room
carries its position, an offset, gapless and increasing, within an epoch that changes when the
room's history is lost."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.channels.events import NotRecovered


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


CHAT_SERVER_MESSAGES = (ChatText, Joined, Left, Ack, Sync, Presence)
