"""The broker for one process: every hub in it hears every channel, and the histories live in
its memory (lost with it: a new epoch when it restarts)."""

import time

from app.channels.broker import Broker, BrokerHealth, LimitsFor, member_of, new_epoch
from app.channels.events import ChannelEvent, EventDraft, Position, Replay
from app.channels.history import History, HistoryLimits
from app.security.rate_limits import KeyedRateLimit


class InMemoryBroker(Broker):
    """One process: every handler hears every channel, and the history lives here, so it is
    lost (a new epoch) when the process restarts. All channels' histories together stay within
    ``total_bytes``: beyond it, the biggest history forgets its oldest event first."""

    def __init__(
        self,
        limits: HistoryLimits | LimitsFor | None = None,
        *,
        max_channels: int = 1000,
        opening: KeyedRateLimit | None = None,
        total_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        fixed = limits or HistoryLimits()
        super().__init__(
            fixed if callable(fixed) else lambda _channel: fixed, max_channels, opening
        )
        self.total_bytes = total_bytes
        self.held_bytes = 0
        # channel -> member -> its connections' keys
        self._presence: dict[str, dict[str, set[str]]] = {}
        self._histories: dict[str, History] = {}
        self._subscribed: set[str] = set()

    async def start(self) -> None:
        await self._announce_connected()

    async def stop(self) -> None:
        pass

    def health(self) -> BrokerHealth:
        return BrokerHealth(kind="memory", connected=True)

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    def _channel_in_use(self, channel: str) -> bool:
        return channel in self._subscribed

    def _channel_forgettable(self, channel: str, idle_for: float) -> bool:
        return True  # its history goes with it: a client back later is told the epoch changed

    def _forget_channel(self, channel: str) -> None:
        history = self._histories.pop(channel, None)
        if history is not None:
            self.held_bytes -= history.bytes

    def _history(self, channel: str) -> History:
        self.admit(channel)
        history = self._histories.get(channel)
        if history is None:
            history = self._histories[channel] = History(new_epoch(), self.limits_for(channel))
        else:
            self.held_bytes -= history.drop_expired(time.time() * 1000)
        return history

    async def append(
        self, draft: EventDraft, dedup: str | None = None
    ) -> tuple[ChannelEvent, bool]:
        history = self._history(draft.channel)
        before = history.bytes
        event, duplicate = history.append(draft, dedup)
        self.held_bytes += history.bytes - before
        while history.over_bounds():
            self.held_bytes -= history.drop_oldest()
        if self.held_bytes > self.total_bytes:
            self._shrink_biggest()
        if not duplicate:
            self._dispatch(event)
        return event, duplicate

    def _shrink_biggest(self) -> None:
        """Over the budget for all channels: the biggest histories give up their oldest events
        (a client resuming from one of those is told it is too far behind)."""
        while self.held_bytes > self.total_bytes:
            biggest = max(self._histories.values(), key=lambda history: history.bytes)
            if len(biggest.events) <= 1:
                return
            self.held_bytes -= biggest.drop_oldest()

    async def replay(self, channel: str, since: Position | None) -> Replay:
        return self._history(channel).replay(since)

    async def read_range(
        self, channel: str, epoch: str, after: int, upto: int
    ) -> list[ChannelEvent]:
        history = self._histories.get(channel)
        if history is None or history.epoch != epoch:
            return []
        return [event for event in history.events if after < event.offset <= upto]

    async def presence_add(self, channel: str, key: str) -> bool:
        connections = self._presence.setdefault(channel, {}).setdefault(member_of(key), set())
        connections.add(key)
        return len(connections) == 1

    async def presence_remove(self, channel: str, key: str) -> bool:
        members = self._presence.get(channel, {})
        connections = members.get(member_of(key), set())
        if key not in connections:
            return False
        connections.discard(key)
        if connections:
            return False
        del members[member_of(key)]
        if not members:
            del self._presence[channel]
        return True

    async def presence_refresh(self, channel: str, keys: list[str]) -> None:
        pass  # nothing here outlives the process

    async def online(self, channel: str) -> set[str]:
        return set(self._presence.get(channel, {}))

    async def notify_presence(self, channel: str) -> None:
        self._dispatch_notice(channel)

    async def reap(self, channel: str) -> list[str]:
        return []  # one process: its connections end with it
