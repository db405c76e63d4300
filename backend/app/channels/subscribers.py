"""One process's subscribers of each channel, fed the channel's events in offset order through
their connection's outlet (``app.conversation.outlet``).

A broadcast only offers each subscriber the event's frame, which is written at once or queued,
never awaited: one slow or stuck client cannot hold up the others (the guide's ``broadcast``
awaits each client in turn). A subscriber whose connection has no room left, or that keeps too
much waiting while it catches up, has its connection dropped (``ChannelHub.drop_slow``).

How an event looks on the wire is the subscription's ``Renderer``'s business: the guide's
chat lines, the chat's JSON, or the multiplexed endpoint's generic ``event`` messages. Each
renderer caches the frame of the event it rendered last, so a fan-out encodes once per kind
of subscriber, however many there are.
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from app.channels.events import ChannelEvent, NotRecovered, Position
from app.channels.history import EVENT_OVERHEAD_BYTES
from app.conversation.loop import Conversation
from app.server.wire import WireFrame

if TYPE_CHECKING:
    from app.channels.hub import ChannelHub

# How long a subscriber that takes nothing may hold up its own catch-up before it is dropped.
STALLED_SECONDS = 5.0


class Renderer(Protocol):
    # Whether its subscribers keep positions: they get the history, a `sync`, and never an
    # event twice. The guide's chat keeps none.
    positional: bool

    def event(self, event: ChannelEvent) -> WireFrame | None:
        """The frame for an event; None when this kind of subscriber is told nothing of it."""

    def sync(
        self,
        channel: str,
        position: Position,
        recovered: bool,
        reason: NotRecovered | None,
        replayed: int,
    ) -> WireFrame | None: ...

    def presence(
        self, channel: str, online: tuple[str, ...], complete: bool
    ) -> WireFrame | None: ...


class CachingRenderer:
    """A renderer that makes each event's frame once, however many subscribers it reaches (the
    last event's frame is kept: a fan-out renders one event for all of them in a row), and by
    default says nothing of syncs or presence (the guide's dialect)."""

    positional = False

    def __init__(self) -> None:
        self._event: ChannelEvent | None = None
        self._frame: WireFrame | None = None

    def event(self, event: ChannelEvent) -> WireFrame | None:
        if event is not self._event:
            self._event, self._frame = event, self.render(event)
        return self._frame

    def render(self, event: ChannelEvent) -> WireFrame | None:
        raise NotImplementedError

    def sync(
        self,
        channel: str,
        position: Position,
        recovered: bool,
        reason: NotRecovered | None,
        replayed: int,
    ) -> WireFrame | None:
        return None

    def presence(self, channel: str, online: tuple[str, ...], complete: bool) -> WireFrame | None:
        return None


@dataclass(eq=False)
class Subscription:
    """One connection following one channel."""

    hub: "ChannelHub"
    conversation: Conversation
    channel: str
    renderer: Renderer
    # How it shows in the channel's presence, and its presence entry; None when not listed.
    member: str | None = None
    key: str | None = None
    # The last event it has (epoch, offset): it skips any it is offered again.
    epoch: str = ""
    offset: int = -1
    # While it catches up from the history, the live events wait here (bounded in bytes).
    backlog: deque[ChannelEvent] | None = None
    backlog_bytes: int = 0
    sent_presence: tuple[tuple[str, ...], bool] | None = None
    # Whether its member's joining was told (it is not while the broker is away).
    announced: bool = True
    # Its history could not be read when it came: caught up from here once the broker is back.
    awaiting_history: bool = False
    pending_since: Position | None = None
    ended: bool = False

    @property
    def too_slow(self) -> bool:
        return self.hub.is_dropping(self.conversation)

    def take(self, event: ChannelEvent) -> None:
        """A live event; held back while the subscriber catches up from the history."""
        if self.backlog is not None:
            self.backlog.append(event)
            # An event costs its payload and its own objects, however small the payload.
            self.backlog_bytes += EVENT_OVERHEAD_BYTES + len(event.data)
            if self.backlog_bytes > self.conversation.outlet.max_bytes:
                self.hub.drop_slow(self)
            return
        frame = self.frame_for(event)
        if frame is not None:
            self.deliver(frame)

    def frame_for(self, event: ChannelEvent) -> WireFrame | None:
        """What the client gets for the event: None when it has it already, or when its kind
        of subscriber is told nothing of it."""
        if event.offset <= self.offset and event.epoch == self.epoch:
            return None
        self.epoch, self.offset = event.epoch, event.offset
        return self.renderer.event(event)

    def deliver(self, frame: WireFrame) -> None:
        """Now or queued, never awaited; a connection with no room left for it is dropped."""
        if not self.too_slow and not self.conversation.outlet.offer(frame):
            self.hub.drop_slow(self)

    async def send_paced(self, frame: WireFrame) -> None:
        """Waits for room: a catch-up of hundreds of events goes out as fast as the client
        takes them. A client that takes nothing for a while is dropped."""
        try:
            await self.conversation.outlet.send(frame, give_up_after=STALLED_SECONDS)
        except TimeoutError:
            self.hub.drop_slow(self)


@dataclass(eq=False)
class ChannelSubscribers:
    """This process's subscribers of one channel, the channel feed's one subscriber: each
    event goes to the plain ones (the guide's) as one shared frame, and to the positional
    ones, who skip what they have."""

    plain: set[Subscription] = field(default_factory=set)
    positional: set[Subscription] = field(default_factory=set)

    def add(self, subscription: Subscription) -> None:
        kind = self.positional if subscription.renderer.positional else self.plain
        kind.add(subscription)

    def discard(self, subscription: Subscription) -> None:
        self.positional.discard(subscription)
        self.plain.discard(subscription)

    def __contains__(self, subscription: object) -> bool:
        return subscription in self.plain or subscription in self.positional

    def __len__(self) -> int:
        return len(self.plain) + len(self.positional)

    def all(self) -> list[Subscription]:
        return [*self.plain, *self.positional]

    def members(self) -> set[str]:
        return {sub.member for sub in self.all() if sub.member is not None}

    def take(self, event: ChannelEvent) -> None:
        for subscription in [*self.plain]:
            # Never a replay, so never a repeat: no positions to keep.
            frame = subscription.renderer.event(event)
            if frame is not None:
                subscription.deliver(frame)
        for subscription in [*self.positional]:
            subscription.take(event)


class ConnectionEntry:
    """What the hub knows of one connection: its subscriptions, and whether it has gone."""

    __slots__ = ("dropping", "gone", "subscriptions")

    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.gone = asyncio.Event()
        self.dropping = False
