"""The messages of the multiplexed endpoint (``WS /ws/realtime``, ``realtime.json.v1``): one
connection per tab for every channel a page follows.

Client to server: ``subscribe`` (a channel, with ``since`` to resume and, on a channel with
presence, the ``member`` to show as), ``unsubscribe``, ``publish`` (a payload, acknowledged with
its position), and the core ``ping``. Server to client: ``subscribed``, ``event`` (tagged with
its channel and position), ``sync`` per channel, ``presence`` per channel, ``ack``,
``unsubscribed``, and the core ``error`` for a refusal of one request (the connection stays).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.channels.events import NotRecovered
from app.conversation.messages import MessageId, Ping

# The multiplexed endpoint's path: its route and the AsyncAPI document read it here.
MULTIPLEXED_ENDPOINT = "/ws/realtime"

ChannelName = Annotated[str, Field(min_length=1, max_length=160)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Client to server


class Subscribe(_Message):
    """Follows a channel: its history since ``since`` (or the recent events), a ``sync``, then
    live events."""

    type: Literal["subscribe"]
    id: MessageId
    channel: ChannelName
    # The position of the last event the client has, "epoch:offset", to resume from.
    since: Annotated[str, Field(max_length=80)] | None = None
    # On a channel with presence: how it shows to the others (a chat's client number).
    member: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    id: MessageId
    channel: ChannelName


class Publish(_Message):
    """A payload for the channel, checked against the channel's model; ``ack`` once placed."""

    type: Literal["publish"]
    id: MessageId
    channel: ChannelName
    data: dict[str, JsonValue]


# Server to client


class Subscribed(_Message):
    type: Literal["subscribed"] = "subscribed"
    reply_to: str
    channel: str


class Unsubscribed(_Message):
    type: Literal["unsubscribed"] = "unsubscribed"
    reply_to: str
    channel: str


class ChannelEventMessage(_Message):
    """An event of a channel the client follows, at its position."""

    type: Literal["event"] = "event"
    channel: str
    epoch: str
    offset: int
    # When the channel took it, in milliseconds since the epoch.
    at: float
    # published: a payload; joined, left: a member's first connection, and its last.
    kind: Literal["published", "joined", "left"]
    # Who it is from, as the channel shows it (a member, a subject), when it says.
    sender: str | None
    # The publisher's id for it, so that a client recognises its own.
    message_id: str | None
    data: dict[str, Any]


class ChannelSync(_Message):
    """The history the client was sent for a channel ends here; live events follow.
    ``recovered``: every event since the position it gave; otherwise ``reason`` says why not."""

    type: Literal["sync"] = "sync"
    channel: str
    epoch: str
    offset: int
    recovered: bool
    reason: NotRecovered | None
    replayed: int


class ChannelPresence(_Message):
    """Who follows a channel with presence, in every process; ``complete: false`` while the
    server cannot vouch for the other processes."""

    type: Literal["presence"] = "presence"
    channel: str
    online: list[str]
    complete: bool


class ChannelAck(_Message):
    """The channel holds the client's ``publish``, at this position (a second send of it gets
    the same answer, and is not placed twice)."""

    type: Literal["ack"] = "ack"
    reply_to: str
    channel: str
    epoch: str
    offset: int


ChannelClientMessage = Annotated[
    Subscribe | Unsubscribe | Publish | Ping, Field(discriminator="type")
]
CHANNEL_SERVER_MESSAGES = (
    Subscribed,
    Unsubscribed,
    ChannelEventMessage,
    ChannelSync,
    ChannelPresence,
    ChannelAck,
)
