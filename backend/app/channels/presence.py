"""Who follows a channel, as this process tells its subscribers: coalesced, and never a lie.

A list goes out at most once per ``interval`` per channel, however many join or leave meanwhile
(pushing the whole list on every change costs a channel of n members n² bytes as it fills up),
and only to subscribers whose last list differs. A list always includes the members connected
to this process, and says ``complete: false`` while the broker cannot say who is connected
elsewhere: when it is away, or right after it came back empty, until every process had its
presence lifetime to re-register.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from app.server.wire import WireFrame

if TYPE_CHECKING:
    from app.channels.hub import ChannelHub

# At most one presence list per channel this often.
COALESCE_SECONDS = 0.5


class PresenceBoard:
    def __init__(
        self,
        hub: "ChannelHub",
        in_background: Callable[[Coroutine[Any, Any, None]], None],
        interval: float = COALESCE_SECONDS,
    ) -> None:
        self.hub = hub
        self.interval = interval
        self._in_background = in_background
        self._due: set[str] = set()
        # Who was online elsewhere when the broker last answered, per channel followed here.
        self._cluster: dict[str, set[str]] = {}

    def changed(self, channel: str) -> None:
        """Someone joined or left: a list goes out within the interval, one for all changes."""
        if channel in self._due or channel not in self.hub.subscribers:
            return
        self._due.add(channel)
        self._in_background(self._push_soon(channel))

    async def refresh_forever(self) -> None:
        """Renews this process's entries every ``presence_interval``, reaps what lapsed (a
        process that died said nothing: its members leave, once for all), and pushes the lists."""
        hub = self.hub
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(hub.presence_interval)
            for channel, subscribers in [*hub.subscribers.items()]:
                keys = [sub.key for sub in subscribers.all() if sub.key is not None]
                if not keys:
                    continue
                await hub.broker.presence_refresh(channel, keys)
                # Not right after a reconnect: the other processes are re-registering too.
                if loop.time() >= hub.outage.reap_after:
                    for member in await hub.broker.reap(channel):
                        await hub.announce("left", None, channel, member)
                await self.push(channel)

    def forget(self, channel: str) -> None:
        """Nobody here follows the channel any more."""
        self._cluster.pop(channel, None)

    async def _push_soon(self, channel: str) -> None:
        await asyncio.sleep(self.interval)
        self._due.discard(channel)
        await self.push(channel)

    async def push(self, channel: str) -> None:
        """Tells this process's positional subscribers who is online, when it changed."""
        subscribers = self.hub.subscribers.get(channel)
        if subscribers is None or not subscribers.positional:
            return  # the guide's dialect has no presence
        resolved = self.hub.registry.resolve(channel)
        if resolved is None or not resolved.channel.presence:
            return
        broker = self.hub.broker
        cluster = await broker.online(channel)
        complete = cluster is not None and not broker.presence_settles_in()
        if cluster is None:
            cluster = self._cluster.get(channel, set())
        elif channel in self.hub.subscribers:
            self._cluster[channel] = cluster
        online = tuple(sorted(cluster | subscribers.members()))
        # One frame per kind of subscriber (its renderer), however many there are.
        frames: dict[int, WireFrame | None] = {}
        for subscription in [*subscribers.positional]:
            if subscription.backlog is not None or subscription.sent_presence == (online, complete):
                continue
            key = id(subscription.renderer)
            if key not in frames:
                frames[key] = subscription.renderer.presence(channel, online, complete)
            frame = frames[key]
            subscription.sent_presence = (online, complete)
            if frame is not None:
                subscription.deliver(frame)
