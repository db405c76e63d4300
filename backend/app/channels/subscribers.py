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
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from app.channels.events import ChannelEvent, ChannelUnavailable, NotRecovered, Position
from app.channels.history import EVENT_OVERHEAD_BYTES
from app.conversation.loop import Conversation
from app.conversation.outlet import Outlet
from app.server.wire import WireFrame

if TYPE_CHECKING:
    from app.channels.feed import ChannelFeed
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


@dataclass(eq=False, slots=True)
class Subscription:
    """One connection following one channel. A fan-out reads a few of its attributes for each
    subscriber, so they are slots, at hand: its connection's entry and outlet."""

    hub: "ChannelHub"
    conversation: Conversation
    # What the hub knows of its connection (whether it is being dropped, or has left).
    entry: "ConnectionEntry"
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
    # Its connection's outlet (the conversation's).
    outlet: Outlet = field(init=False)

    def __post_init__(self) -> None:
        self.outlet = self.conversation.outlet

    @property
    def too_slow(self) -> bool:
        """Its connection is being dropped, or has left the hub."""
        entry = self.entry
        return entry.dropping or entry.left

    def take(self, event: ChannelEvent) -> None:
        """A live event; held back while the subscriber catches up from the history."""
        if self.backlog is not None:
            self.backlog.append(event)
            # An event costs its payload and its own objects, however small the payload.
            self.backlog_bytes += EVENT_OVERHEAD_BYTES + len(event.data)
            if self.backlog_bytes > self.outlet.max_bytes:
                self.hub.drop_slow(self)
            return
        # frame_for() and deliver(), inlined: a fan-out runs this for each subscriber.
        epoch, offset = event.epoch, event.offset
        if offset <= self.offset and epoch == self.epoch:
            return
        self.epoch, self.offset = epoch, offset
        frame = self.renderer.event(event)
        if frame is None:
            return
        entry = self.entry
        if not (entry.dropping or entry.left) and not self.outlet.offer(frame):
            self.hub.drop_slow(self)

    def frame_for(self, event: ChannelEvent) -> WireFrame | None:
        """What the client gets for the event: None when it has it already, or when its kind
        of subscriber is told nothing of it."""
        if event.offset <= self.offset and event.epoch == self.epoch:
            return None
        self.epoch, self.offset = event.epoch, event.offset
        return self.renderer.event(event)

    def deliver(self, frame: WireFrame) -> None:
        """Now or queued, never awaited; a connection with no room left for it is dropped."""
        entry = self.entry
        if not (entry.dropping or entry.left) and not self.outlet.offer(frame):
            self.hub.drop_slow(self)

    async def send_paced(self, frame: WireFrame) -> None:
        """Waits for room: a catch-up of hundreds of events goes out as fast as the client
        takes them. A client that takes nothing for a while is dropped."""
        try:
            await self.outlet.send(frame, give_up_after=STALLED_SECONDS)
        except TimeoutError:
            self.hub.drop_slow(self)

    async def catch_up(self, feed: "ChannelFeed[Any]", since: Position | None) -> None:
        """The history the subscriber missed, a ``sync`` saying whether that is all, then live.
        When the history cannot be read now, the subscriber is told so, and its live events wait
        in its backlog until it is caught up from the same position once the broker is back."""
        channel, renderer = self.channel, self.renderer
        try:
            replay = await feed.catch_up(since)
        except ChannelUnavailable:
            self.hub.metrics.recovery("unavailable")
            self.awaiting_history, self.pending_since = True, since
            sync = renderer.sync(channel, since or Position("", 0), False, "unavailable", 0)
            if sync is not None:
                await self.send_paced(sync)
            return
        self.awaiting_history = False
        self.hub.metrics.recovery("recovered" if replay.recovered else str(replay.reason))
        sync = renderer.sync(
            channel, replay.position, replay.recovered, replay.reason, len(replay.events)
        )
        for event in replay.events:
            if self.too_slow:
                return
            if (frame := self.frame_for(event)) is not None:
                await self.send_paced(frame)
        if sync is not None:
            await self.send_paced(sync)
        backlog = self.backlog
        while backlog and not self.too_slow:  # what came meanwhile, then live
            event = backlog.popleft()
            self.backlog_bytes -= EVENT_OVERHEAD_BYTES + len(event.data)
            if (frame := self.frame_for(event)) is not None:
                await self.send_paced(frame)
        self.backlog = None


@dataclass(eq=False)
class ChannelSubscribers:
    """This process's subscribers of one channel, the channel feed's one subscriber: each
    event goes to the plain ones (the guide's) as one frame per renderer, made once and shared
    by all of them (an event their renderer says nothing of, a join, costs them nothing), and
    to the positional ones, who skip what they have."""

    # The plain subscriptions, by their renderer.
    plain: dict[Renderer, set[Subscription]] = field(default_factory=dict)
    positional: set[Subscription] = field(default_factory=set)

    def add(self, subscription: Subscription) -> None:
        renderer = subscription.renderer
        if renderer.positional:
            self.positional.add(subscription)
        else:
            self.plain.setdefault(renderer, set()).add(subscription)

    def discard(self, subscription: Subscription) -> None:
        self.positional.discard(subscription)
        renderer = subscription.renderer
        same = self.plain.get(renderer)
        if same is not None:
            same.discard(subscription)
            if not same:
                del self.plain[renderer]

    def __contains__(self, subscription: object) -> bool:
        if not isinstance(subscription, Subscription):
            return False
        return subscription in self.positional or subscription in self.plain.get(
            subscription.renderer, ()
        )

    def __len__(self) -> int:
        return len(self.positional) + sum(len(same) for same in self.plain.values())

    def all(self) -> list[Subscription]:
        return [*itertools.chain.from_iterable(self.plain.values()), *self.positional]

    def members(self) -> set[str]:
        return {sub.member for sub in self.all() if sub.member is not None}

    def take(self, event: ChannelEvent) -> None:
        for renderer, same in [*self.plain.items()]:
            # Never a replay, so never a repeat: no positions to keep, one frame for all.
            frame = renderer.event(event)
            if frame is None:
                continue
            for subscription in [*same]:
                entry = subscription.entry  # deliver(), inlined: this runs for each of them
                if entry.dropping or entry.left:
                    continue
                if not subscription.outlet.offer(frame):
                    subscription.hub.drop_slow(subscription)
        for subscription in [*self.positional]:
            subscription.take(event)


class ConnectionEntry:
    """What the hub knows of one connection: its subscriptions, whether it is being dropped,
    and whether it has gone (``gone``: its block is being left; ``left``: it has left)."""

    __slots__ = ("dropping", "gone", "left", "subscriptions")

    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.gone = asyncio.Event()
        self.dropping = False
        self.left = False
