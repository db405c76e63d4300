"""What a hub does when its broker comes back (or first connects): the outage's work.

It places what the hub kept (the guide's messages), tells the broker the departures it could
not (so that each member's last one is announced once), re-registers every subscriber's
presence, announces who came meanwhile and is still here, brings each channel up to date from
the history (a new epoch, when Redis came back empty, from its first event), sends each
positional subscriber a ``sync`` that says whether the history survived, and once every process
had its presence lifetime to re-register, says the lists are whole again.
"""

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from app.channels.events import ChannelUnavailable
from app.channels.feed import ChannelFeed
from app.channels.subscribers import ChannelSubscribers, Subscription

if TYPE_CHECKING:
    from app.channels.hub import ChannelHub

# Departures noted while the broker was away, to tell it once it returns.
DEPARTED_LIMIT = 10_000


class OutageRecovery:
    def __init__(self, hub: "ChannelHub") -> None:
        self.hub = hub
        # (channel, presence key, member) of members that left while the broker was away.
        self.departed: deque[tuple[str, str, str]] = deque(maxlen=DEPARTED_LIMIT)
        # Reaping waits after a reconnect: the other processes are re-registering too.
        self.reap_after = 0.0
        self.connected_before = False

    async def on_broker_connected(self) -> None:
        """Back after an outage (or a first connect): place what waited, tell the departures,
        register every subscriber at once, and bring each channel up to date from the history."""
        self.reap_after = asyncio.get_running_loop().time() + 2 * self.hub.presence_interval
        if self.connected_before:
            self.hub.metrics.broker_reconnected()
        self.connected_before = True
        while self.hub.held:
            try:
                await self.hub.broker.append(self.hub.held.oldest())
            except ChannelUnavailable:
                return  # gone again: the reader will call once more
            self.hub.held.placed_oldest()
        while self.departed:
            channel, key, member = self.departed[0]
            last = await self.hub.broker.presence_remove(channel, key)
            if last is None:
                return  # gone again
            self.departed.popleft()
            if not last:
                # Not found (a Redis that came back empty lost it), or not the last: gone,
                # unless the same member is connected somewhere.
                online = await self.hub.broker.online(channel)
                last = online is not None and member not in online
            if last:
                await self.hub.announce("left", None, channel, member)
        for channel, feed in [*self.hub.feeds.items()]:
            subscriptions = self.hub.subscribers[channel].all()
            keys = [sub.key for sub in subscriptions if sub.key is not None]
            await self.hub.broker.presence_refresh(channel, keys)
            await self._announce_joins_of_the_outage(subscriptions)
            await self.hub.broker.notify_presence(channel)
            await self.resync(feed, subscriptions)
        if settles_in := self.hub.broker.presence_settles_in():
            self.hub.in_background(self._push_presence_everywhere(after=settles_in))

    async def _announce_joins_of_the_outage(self, subscriptions: list[Subscription]) -> None:
        """Members who came while the broker was away and are still here: joined, once each."""
        announced: set[str] = set()
        for subscription in subscriptions:
            if subscription.announced or subscription.key is None:
                continue
            subscription.announced = True
            if subscription.member not in announced:
                announced.add(subscription.member or "")
                await self.hub.announce("joined", subscription)

    async def _push_presence_everywhere(self, after: float) -> None:
        """Once every process had its time to re-register: the lists are whole again."""
        await asyncio.sleep(after)
        for channel in [*self.hub.subscribers]:
            await self.hub.presence.push(channel)

    async def resync(
        self, feed: ChannelFeed[ChannelSubscribers], subscriptions: list[Subscription]
    ) -> None:
        """Events the channel placed while this process could not hear it, and a ``sync`` to
        each positional subscriber: recovered, or why not (a Redis that came back empty). One
        whose history could not be read when it came is caught up from where it asked."""
        known = feed.position
        try:
            replay = await self.hub.broker.replay(feed.channel, known)
        except ChannelUnavailable:
            return
        if known is None:
            # Nothing was fed here yet: the subscribers catch up from their own positions.
            feed.position = replay.position
        else:
            for event in replay.events:
                feed.on_event(event)
        reason = None if replay.recovered else replay.reason
        for subscription in subscriptions:
            if subscription.awaiting_history:
                await self.hub.catch_up_again(subscription)
            elif subscription.renderer.positional and subscription.backlog is None:
                sync = subscription.renderer.sync(
                    feed.channel, replay.position, replay.recovered, reason, len(replay.events)
                )
                if sync is not None:
                    subscription.deliver(sync)
