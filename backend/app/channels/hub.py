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
from app.channels.presence import PresenceBoard
from app.channels.subscribers import (
    ChannelSubscribers,
    ConnectionEntry,
    Renderer,
    Subscription,
)
from app.conversation.loop import Conversation
from app.observability.metrics import Metrics
from app.server.wire import transport_of
from app.vocabulary.close_codes import TRY_AGAIN_LATER

logger = logging.getLogger(__name__)

# How long a client closed for being slow has to take the close frame before it is cut off.
SLOW_CLIENT_GRACE = 1.0
# Departures noted while the broker was away, to tell it once it returns.
DEPARTED_LIMIT = 10_000
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
        self.presence = PresenceBoard(self, self._in_background)
        self.held = HeldEvents(held_bytes)
        self._connections: dict[Conversation, ConnectionEntry] = {}
        self._departed: deque[tuple[str, str, str]] = deque(maxlen=DEPARTED_LIMIT)
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        self._reap_after = 0.0
        self._connected_before = False
        broker.on_event(self._on_event)
        broker.on_connected(self._on_broker_connected)
        broker.on_presence_notice(self.presence.changed)

    async def start(self) -> None:
        await self.broker.start()
        self._refresher = asyncio.create_task(self._refresh_presence_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in [*self._tasks]:
            task.cancel()
        await self.broker.stop()

    # --- connections and their subscriptions -----------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self, conversation: Conversation) -> AsyncIterator["HubConnection"]:
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
        channel would be one too many; then nothing was sent."""
        self.broker.admit(channel)
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
                await self._announce("joined", subscription)
        if renderer.positional:
            await self._catch_up(subscription, feed, since)
        self.presence.changed(channel)
        return subscription

    async def _catch_up(
        self,
        subscription: Subscription,
        feed: ChannelFeed[ChannelSubscribers],
        since: Position | None,
    ) -> None:
        """The history the subscriber missed, a ``sync`` saying whether that is all, then live."""
        channel, renderer = subscription.channel, subscription.renderer
        try:
            replay = await feed.catch_up(since)
        except ChannelUnavailable:
            # Told now; the history follows when the broker is back (see _resync).
            sync = renderer.sync(channel, since or Position("", 0), False, "unavailable", 0)
            events: list[ChannelEvent] = []
            self.metrics.recovery("unavailable")
        else:
            self.metrics.recovery("recovered" if replay.recovered else str(replay.reason))
            sync = renderer.sync(
                channel, replay.position, replay.recovered, replay.reason, len(replay.events)
            )
            events = replay.events
        for event in events:
            if subscription.too_slow:
                return
            if (frame := subscription.frame_for(event)) is not None:
                await subscription.send_paced(frame)
        if sync is not None:
            await subscription.send_paced(sync)
        backlog = subscription.backlog
        while backlog and not subscription.too_slow:  # what came meanwhile, then live
            event = backlog.popleft()
            subscription.backlog_bytes -= len(event.data)
            if (frame := subscription.frame_for(event)) is not None:
                await subscription.send_paced(frame)
        subscription.backlog = None

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
                await self._announce("left", subscription)
            elif last is None and subscription.announced and subscription.member is not None:
                # Told once the broker is back; one never announced leaves without a word.
                self._departed.append((channel, subscription.key, subscription.member))
            self.presence.changed(channel)

    # --- publishing ----------------------------------------------------------------------

    def can_hold(self, data: str) -> bool:
        """Whether a message that must not be refused (the guide's) can be taken now: placed,
        or kept while the broker is away. When not, its sender is closed rather than told it
        was heard."""
        if not self.held and self.broker.health().connected:
            return True
        return self.held.has_room_for(data)

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
    ) -> ChannelEvent:
        """Places an event in the channel; it, once the channel holds it (or the event it
        already held under ``dedup``). Raises ``ChannelUnavailable`` when the channel cannot
        take it now; with ``hold`` (a guide client, which has no way to be told), the event is
        kept here and placed when the broker returns, in order behind what waits already."""
        draft = EventDraft.now(kind, channel, data, self.node_id, sender, message_id)
        if hold and self.held:
            self.held.keep(draft)
            raise ChannelUnavailable("the channel is placing what waited during an outage")
        try:
            event, _duplicate = await self.broker.append(draft, dedup)
        except ChannelUnavailable:
            if hold:
                self.held.keep(draft)
            raise
        return event

    async def place(self, draft: EventDraft, dedup: str | None) -> tuple[ChannelEvent, bool]:
        """Places a draft as it is; the event, and whether ``dedup`` named one held already.
        Raises ``ChannelUnavailable``."""
        return await self.broker.append(draft, dedup)

    async def _announce(
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
                self._departed.append((channel, subscription.key, member))

    # --- the channels' events ------------------------------------------------------------

    def _on_event(self, event: ChannelEvent) -> None:
        feed = self.feeds.get(event.channel)
        if feed is None:
            return
        feed.on_event(event)
        self.metrics.delivered(event.at)
        if event.kind != "published":
            self.presence.changed(event.channel)

    async def _on_broker_connected(self) -> None:
        """Back after an outage (or a first connect): place what waited, tell the departures,
        register every subscriber at once, and bring each channel up to date from the history."""
        self._reap_after = asyncio.get_running_loop().time() + 2 * self.presence_interval
        if self._connected_before:
            self.metrics.broker_reconnected()
        self._connected_before = True
        while self.held:
            try:
                await self.broker.append(self.held.oldest())
            except ChannelUnavailable:
                return  # gone again: the reader will call once more
            self.held.placed_oldest()
        while self._departed:
            channel, key, member = self._departed[0]
            last = await self.broker.presence_remove(channel, key)
            if last is None:
                return  # gone again
            self._departed.popleft()
            if not last:
                # Not found (a Redis that came back empty lost it), or not the last: gone,
                # unless the same member is connected somewhere.
                online = await self.broker.online(channel)
                last = online is not None and member not in online
            if last:
                await self._announce("left", None, channel, member)
        for channel, feed in [*self.feeds.items()]:
            subscriptions = self.subscribers[channel].all()
            keys = [sub.key for sub in subscriptions if sub.key is not None]
            await self.broker.presence_refresh(channel, keys)
            await self._announce_joins_of_the_outage(subscriptions)
            await self.broker.notify_presence(channel)
            await self._resync(feed, subscriptions)
        if settles_in := self.broker.presence_settles_in():
            self._in_background(self._push_presence_everywhere(after=settles_in))

    async def _announce_joins_of_the_outage(self, subscriptions: list[Subscription]) -> None:
        """Members who came while the broker was away and are still here: joined, once each."""
        announced: set[str] = set()
        for subscription in subscriptions:
            if subscription.announced or subscription.key is None:
                continue
            subscription.announced = True
            if subscription.member not in announced:
                announced.add(subscription.member or "")
                await self._announce("joined", subscription)

    async def _push_presence_everywhere(self, after: float) -> None:
        """Once every process had its time to re-register: the lists are whole again."""
        await asyncio.sleep(after)
        for channel in [*self.subscribers]:
            await self.presence.push(channel)

    async def _resync(
        self, feed: ChannelFeed[ChannelSubscribers], subscriptions: list[Subscription]
    ) -> None:
        """Events the channel placed while this process could not hear it, and a ``sync`` to
        each positional subscriber: recovered, or why not (a Redis that came back empty)."""
        try:
            replay = await feed.catch_up(feed.position)
        except ChannelUnavailable:
            return
        for event in replay.events:
            feed.on_event(event)
        reason = None if replay.recovered else replay.reason
        for subscription in subscriptions:
            if subscription.renderer.positional and subscription.backlog is None:
                sync = subscription.renderer.sync(
                    feed.channel, replay.position, replay.recovered, reason, len(replay.events)
                )
                if sync is not None:
                    subscription.deliver(sync)

    # --- dropping a connection that does not keep up --------------------------------------

    def is_dropping(self, conversation: Conversation) -> bool:
        entry = self._connections.get(conversation)
        return entry is None or entry.dropping

    def drop_slow(self, subscription: Subscription) -> None:
        """Its connection has no room left: closed with 1013, all its subscriptions ended."""
        conversation = subscription.conversation
        entry = self._connections.get(conversation)
        if entry is None or entry.dropping:
            return
        entry.dropping = True
        conversation.ended = True  # read nothing more from it
        conversation.close_code = TRY_AGAIN_LATER
        self.metrics.dropped_slow_client()
        outlet = conversation.outlet
        logger.warning(
            "%s: a subscriber of %r did not keep up (%d messages, %d bytes waiting): "
            "closing with %d",
            conversation.websocket.url.path,
            subscription.channel,
            len(outlet.queue or ()),
            outlet.queued_bytes,
            TRY_AGAIN_LATER,
            extra={"close_code": TRY_AGAIN_LATER},
        )
        outlet.close()
        self._in_background(self._close_slow(conversation, entry))

    async def _close_slow(self, conversation: Conversation, entry: ConnectionEntry) -> None:
        # A stuck client may never take the close frame: its buffers (ours and the kernel's)
        # stay held until the connection is cut, so it is, SLOW_CLIENT_GRACE after the 1013
        # was decided (one deadline for leaving, the close frame and the client's going).
        deadline = asyncio.get_running_loop().time() + SLOW_CLIENT_GRACE
        for subscription in [*entry.subscriptions.values()]:
            await self.unsubscribe(subscription)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                with contextlib.suppress(Exception):
                    await conversation.websocket.close(
                        TRY_AGAIN_LATER, "too slow: messages piled up"
                    )
                await entry.gone.wait()
            return
        transport = transport_of(conversation.websocket.scope)
        if transport is not None:
            logger.info(
                "%s: a client took no close frame: connection aborted",
                conversation.websocket.url.path,
            )
            transport.abort()

    # --- presence ------------------------------------------------------------------------

    async def _refresh_presence_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.presence_interval)
            for channel, subscribers in [*self.subscribers.items()]:
                keys = [sub.key for sub in subscribers.all() if sub.key is not None]
                if not keys:
                    continue
                await self.broker.presence_refresh(channel, keys)
                # Not right after a reconnect: the other processes are re-registering too.
                if loop.time() >= self._reap_after:
                    for member in await self.broker.reap(channel):
                        # A process that died said nothing: its members leave, once for all.
                        await self._announce("left", None, channel, member)
                await self.presence.push(channel)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)


class HubConnection:
    """One connection's subscriptions, at most one per channel."""

    def __init__(self, hub: ChannelHub, conversation: Conversation, entry: ConnectionEntry) -> None:
        self.hub = hub
        self.conversation = conversation
        self._entry = entry

    @property
    def subscriptions(self) -> dict[str, Subscription]:
        return self._entry.subscriptions

    async def subscribe(
        self,
        channel: str,
        renderer: Renderer,
        *,
        since: Position | None = None,
        member: str | None = None,
    ) -> Subscription:
        return await self.hub.subscribe(
            self.conversation, channel, renderer, since=since, member=member
        )

    async def unsubscribe(self, channel: str) -> bool:
        subscription = self._entry.subscriptions.get(channel)
        if subscription is None:
            return False
        await self.hub.unsubscribe(subscription)
        return True

    async def wait_for_room(self) -> None:
        """Before taking another message from this client: a client that sends faster than it
        reads the answers is slowed down (TCP pushes back on its sending), rather than dropped
        for its own replies. Only what its channels send can make it too slow."""
        try:
            await self.conversation.outlet.wait_for_room(give_up_after=5.0)
        except TimeoutError:
            for subscription in [*self._entry.subscriptions.values()]:
                self.hub.drop_slow(subscription)
                return
