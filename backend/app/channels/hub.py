"""The channels of one process, joined to every other process through the broker.

Every event of a channel is placed by the broker at an offset in the channel's history before
anyone hears it, and every process feeds its own subscribers from the broker in offset order
(``app.channels.feed``). A positional subscriber gets what it missed since the position it
gave (or the recent history) before the live events, then a ``sync`` saying whether that was
everything; a plain one (the guide's chat) gets live events only.

A connection's subscriptions live in ``HubConnection`` (``hub.connection(conversation)``): the
chat's guide endpoint holds one, the multiplexed endpoint as many as it is allowed; leaving the
block unsubscribes them all. With presence on, one member may be connected several times (two
tabs, or a reconnect before the old connection was noticed gone): it is announced as joined with
its first connection and as left with its last, in the whole cluster (the broker counts them).
"""

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from app.channels.broker import Broker
from app.channels.connections import HubConnection
from app.channels.declarations import ChannelRegistry
from app.channels.events import (
    ChannelEvent,
    ChannelUnavailable,
    EventDraft,
    EventKind,
    Position,
)
from app.channels.feed import ChannelFeed
from app.channels.held import HeldEvents
from app.channels.outage import OutageRecovery
from app.channels.presence import PresenceBoard
from app.channels.slow import SlowConnections
from app.channels.subscribers import (
    ChannelSubscribers,
    ConnectionEntry,
    Renderer,
    Subscription,
)
from app.conversation.loop import Conversation
from app.observability.metrics import Metrics

logger = logging.getLogger(__name__)

NO_DATA = "{}"


class ChannelHub:
    def __init__(
        self,
        broker: Broker,
        registry: ChannelRegistry,
        *,
        held_bytes: int = 4 * 1024 * 1024,
        presence_interval: float = 10 / 3,
        metrics: Metrics | None = None,
    ) -> None:
        self.broker = broker
        self.registry = registry
        self.metrics = metrics or Metrics(enabled=False)
        self.node_id = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"
        self.presence_interval = presence_interval
        self.feeds: dict[str, ChannelFeed[ChannelSubscribers]] = {}
        self.subscribers: dict[str, ChannelSubscribers] = {}
        self.presence = PresenceBoard(self, self.in_background)
        self.held = HeldEvents(held_bytes)
        self._connections: dict[Conversation, ConnectionEntry] = {}
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        self.outage = OutageRecovery(self)
        self.slow = SlowConnections(self)
        broker.on_event(self._on_event)
        broker.on_connected(self.outage.on_broker_connected)
        broker.on_presence_notice(self.presence.changed)

    async def start(self) -> None:
        await self.broker.start()
        self._refresher = asyncio.create_task(self.presence.refresh_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in [*self._tasks]:
            task.cancel()
        await self.broker.stop()

    # --- connections and their subscriptions -----------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self, conversation: Conversation) -> AsyncIterator[HubConnection]:
        """A connection's subscriptions, all of them ended when the block is left."""
        entry = self._connections[conversation] = ConnectionEntry()
        try:
            yield HubConnection(self, conversation, entry)
        finally:
            entry.gone.set()
            for subscription in [*entry.subscriptions.values()]:
                await self.unsubscribe(subscription)
            entry.left = True
            del self._connections[conversation]

    async def subscribe(
        self,
        conversation: Conversation,
        channel: str,
        renderer: Renderer,
        *,
        since: Position | None = None,
        member: str | None = None,
    ) -> Subscription:
        """Follows the channel: a positional subscriber first gets what it missed since
        ``since`` (or the recent history) and a ``sync``. Raises ``ChannelsFull`` when the
        channel would be one too many (``OpeningTooFast`` when its client opens new ones too
        fast); then nothing was sent."""
        self.broker.admit(channel, opener=conversation.address)
        entry = self._connections[conversation]
        feed = self.feeds.get(channel)
        if feed is None:
            feed = self.feeds[channel] = ChannelFeed[ChannelSubscribers](self.broker, channel)
            self.subscribers[channel] = ChannelSubscribers()
            feed.subscribers.add(self.subscribers[channel])
            await self.broker.subscribe(channel)
        subscription = Subscription(self, conversation, entry, channel, renderer, member=member)
        resolved = self.registry.resolve(channel)
        with_presence = resolved is not None and resolved.channel.presence and member is not None
        if with_presence:
            subscription.key = f"{self.node_id}/{next(self._serial)}/{member}"
        if renderer.positional:
            subscription.backlog = deque()
        self.subscribers[channel].add(subscription)
        entry.subscriptions[channel] = subscription
        if subscription.key is not None:
            first = await self.broker.presence_add(channel, subscription.key)
            # None: the broker cannot tell now; announced once it is back, if still here.
            subscription.announced = first is not None
            if first:
                await self.announce("joined", subscription)
        if renderer.positional:
            await subscription.catch_up(feed, since)
        self.presence.changed(channel)
        return subscription

    async def catch_up_again(self, subscription: Subscription) -> None:
        """A subscriber whose history could not be read when it came: now, from where it
        asked (the broker is back)."""
        feed = self.feeds.get(subscription.channel)
        if feed is not None and not subscription.ended:
            await subscription.catch_up(feed, subscription.pending_since)

    async def refollow(self, subscription: Subscription, since: Position | None) -> None:
        """A subscriber asks again for a channel it follows: caught up afresh from ``since``,
        as the same member (it neither leaves nor joins)."""
        feed = self.feeds[subscription.channel]
        subscription.epoch, subscription.offset = "", -1
        subscription.backlog, subscription.backlog_bytes = deque(), 0
        await subscription.catch_up(feed, since)

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Once per subscription, whichever comes first: its client leaving, or being dropped."""
        if subscription.ended:
            return
        subscription.ended = True
        channel = subscription.channel
        entry = self._connections.get(subscription.conversation)
        if entry is not None and entry.subscriptions.get(channel) is subscription:
            del entry.subscriptions[channel]
        subscribers = self.subscribers.get(channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self.feeds[channel], self.subscribers[channel]
                self.presence.forget(channel)
                await self.broker.unsubscribe(channel)
        if subscription.key is not None:
            last = await self.broker.presence_remove(channel, subscription.key)
            if last:
                await self.announce("left", subscription)
            elif last is None and subscription.announced and subscription.member is not None:
                # Told once the broker is back; one never announced leaves without a word.
                self.outage.departed.append((channel, subscription.key, subscription.member))
            self.presence.changed(channel)

    # --- publishing ----------------------------------------------------------------------

    def can_hold(self, data: str, holder: str) -> bool:
        """Whether a message that must not be refused (the guide's) can be taken now from
        ``holder`` (a client address): placed, or kept while the broker is away. When not, its
        sender is closed rather than told it was heard."""
        if not self.held and self.broker.health().connected:
            return True
        return self.held.has_room_for(data, holder)

    async def publish(
        self,
        channel: str,
        data: str,
        *,
        kind: EventKind = "published",
        sender: str | None = None,
        message_id: str | None = None,
        dedup: str | None = None,
        hold: bool = False,
        holder: str = "",
    ) -> ChannelEvent:
        """Places an event in the channel; it, once the channel holds it (or the event it
        already held under ``dedup``). Raises ``ChannelUnavailable`` when the channel cannot
        take it now; with ``hold`` (a guide client, which has no way to be told), the event is
        kept here and placed when the broker returns, in order behind what waits already, as
        ``holder``'s (a client address: ``can_hold`` bounds what each may have kept)."""
        draft = EventDraft.now(kind, channel, data, self.node_id, sender, message_id)
        if hold and self.held:
            self.held.keep(draft, holder)
            raise ChannelUnavailable("the channel is placing what waited during an outage")
        try:
            event, _duplicate = await self.broker.append(draft, dedup)
        except ChannelUnavailable:
            if hold:
                self.held.keep(draft, holder)
            raise
        return event

    async def place(self, draft: EventDraft, dedup: str | None) -> tuple[ChannelEvent, bool]:
        """Places a draft as it is; the event, and whether ``dedup`` named one held already.
        Raises ``ChannelUnavailable``."""
        return await self.broker.append(draft, dedup)

    async def announce(
        self,
        kind: EventKind,
        subscription: Subscription | None,
        channel: str = "",
        member: str = "",
    ) -> None:
        """Places a join or a departure. Not kept while the broker is away (a client that comes
        and goes in an outage would otherwise have the hub keep one per visit): a join is
        placed once the broker is back, if its subscriber is still here; a departure is told
        to the broker then, which says whether it was the member's last."""
        if subscription is not None:
            channel, member = subscription.channel, subscription.member or ""
        try:
            await self.broker.append(EventDraft.now(kind, channel, NO_DATA, self.node_id, member))
        except ChannelUnavailable:
            if subscription is None:
                return  # a reaped member: the reaper of the next round tells it
            if kind == "joined":
                subscription.announced = False
            elif subscription.key is not None:
                self.outage.departed.append((channel, subscription.key, member))

    # --- the channels' events ------------------------------------------------------------

    def _on_event(self, event: ChannelEvent) -> None:
        feed = self.feeds.get(event.channel)
        if feed is None:
            return
        feed.on_event(event)
        self.metrics.delivered(event.at)
        if event.kind != "published":
            self.presence.changed(event.channel)

    # --- dropping a connection that does not keep up --------------------------------------

    def connection_entry(self, conversation: Conversation) -> ConnectionEntry | None:
        return self._connections.get(conversation)

    def is_dropping(self, conversation: Conversation) -> bool:
        entry = self._connections.get(conversation)
        return entry is None or entry.dropping

    def drop_slow(self, subscription: Subscription) -> None:
        """Its connection has no room left: closed with 1013, all its subscriptions ended."""
        self.slow.drop(subscription)

    # --- background work ------------------------------------------------------------------

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)
