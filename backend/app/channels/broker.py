"""The broker: what carries a channel's events between processes, keeps its history, and knows
who is following it.

The interface follows encode/broadcaster's (publish to a channel, subscribe to one), plus the
two things a channel needs to lose nothing: each event is placed at an offset in a bounded
history when it is published (``append``), and a subscriber can ask for what it missed
(``replay``, ``read_range``). ``InMemoryBroker`` serves one process, and tests that put several
hubs in one process; ``RedisBroker`` (redis_broker.py) serves many processes on many hosts.

Presence is kept per connection (a key: this process, a serial, and the member it shows as),
and counted per member, so that a member's first connection and its last are each told to
exactly one caller in the whole cluster.
"""

import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from app.channels.events import ChannelEvent, EventDraft, Position, Replay
from app.channels.history import HistoryLimits
from app.channels.ledger import ChannelLedger
from app.security.rate_limits import KeyedRateLimit

logger = logging.getLogger(__name__)

EventHandler = Callable[[ChannelEvent], None]
ConnectedHandler = Callable[[], Awaitable[None]]
NoticeHandler = Callable[[str], None]  # (channel)
LimitsFor = Callable[[str], HistoryLimits]  # a channel's history limits, by its name


@dataclass(frozen=True)
class BrokerHealth:
    kind: Literal["memory", "redis"]
    connected: bool
    # Which Redis ("single", "sentinel mymaster via …", "cluster via 6 seed nodes").
    topology: str = ""
    # Times it came back after losing Redis, and when and why it last lost it.
    reconnects: int = 0
    last_outage: str | None = None


def new_epoch() -> str:
    return secrets.token_hex(4)


def member_of(key: str) -> str:
    """Presence keys end with ``/{member}``."""
    return key.rsplit("/", 1)[1]


class Broker(ABC):
    """Channels shared by every process of the app."""

    def __init__(
        self, limits_for: LimitsFor, max_channels: int, opening: KeyedRateLimit | None = None
    ) -> None:
        self.limits_for = limits_for
        # The channels this process uses: one more than it may keep raises ChannelsFull.
        self.channels = ChannelLedger(
            max_channels,
            in_use=self._channel_in_use,
            forgettable=self._channel_forgettable,
            forget=self._forget_channel,
            opening=opening,
        )
        self._event_handlers: list[EventHandler] = []
        self._connected_handlers: list[ConnectedHandler] = []
        self._notice_handlers: list[NoticeHandler] = []

    def on_event(self, handler: EventHandler) -> None:
        """Calls ``handler(event)`` for each event of a subscribed channel, in offset order."""
        self._event_handlers.append(handler)

    def on_connected(self, handler: ConnectedHandler) -> None:
        """Awaits ``handler()`` each time the broker (re)connects: time to re-register."""
        self._connected_handlers.append(handler)

    def on_presence_notice(self, handler: NoticeHandler) -> None:
        """Calls ``handler(channel)`` when some process says the channel's presence changed."""
        self._notice_handlers.append(handler)

    def _dispatch_notice(self, channel: str) -> None:
        for handler in self._notice_handlers:
            try:
                handler(channel)
            except Exception:
                logger.exception("channel broker: a handler failed on a notice for %s", channel)

    def _dispatch(self, event: ChannelEvent) -> None:
        for handler in self._event_handlers:
            try:
                handler(event)
            except Exception:
                logger.exception(
                    "channel broker: a handler failed on an event of %s", event.channel
                )

    async def _announce_connected(self) -> None:
        for handler in self._connected_handlers:
            try:
                await handler()
            except Exception:
                logger.exception("channel broker: a handler failed after reconnecting")

    def admit(self, channel: str, opener: str | None = None) -> None:
        """Before a channel is used: raises ``ChannelsFull`` when it would be one too many, or
        ``OpeningTooFast`` when ``opener`` (a client's address) opens new ones too fast."""
        self.channels.use(channel, opener)

    @abstractmethod
    def _channel_in_use(self, channel: str) -> bool:
        """Whether this process has subscribers to the channel."""

    @abstractmethod
    def _channel_forgettable(self, channel: str, idle_for: float) -> bool:
        """Whether a channel unused for ``idle_for`` seconds may leave the ledger."""

    @abstractmethod
    def _forget_channel(self, channel: str) -> None:
        """Frees what this process kept for a channel that left the ledger."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def health(self) -> BrokerHealth: ...

    async def renew_epoch(self, channel: str, seen: Position) -> bool:
        """After a failover lost events this process had seen: a new epoch, so that no offset
        is given twice. Only a replicated broker can go back (False: nothing to do)."""
        return False

    def presence_settles_in(self) -> float:
        """Seconds until the broker's presence can be trusted whole again (0: it can). After
        a shared broker comes back empty, every other process has yet to re-register."""
        return 0.0

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Starts delivering the channel's events to this process; kept across reconnects."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def append(
        self, draft: EventDraft, dedup: str | None = None
    ) -> tuple[ChannelEvent, bool]:
        """Places the event at the channel's next offset, keeps it in the history and delivers
        it to every subscribed process, as one atomic step. A draft with the ``dedup`` key of an
        event the channel still holds (a message sent again) is not placed again: that event is
        returned, with True. Raises ``ChannelUnavailable`` when the channel cannot take it,
        and ``ChannelsFull`` when it would be one channel too many."""

    @abstractmethod
    async def replay(self, channel: str, since: Position | None) -> Replay:
        """What a subscriber resuming from ``since`` missed; the recent events when it cannot
        be resumed (or when ``since`` is None). Raises ``ChannelUnavailable``."""

    @abstractmethod
    async def read_range(
        self, channel: str, epoch: str, after: int, upto: int
    ) -> list[ChannelEvent]:
        """The events of ``epoch`` after offset ``after`` up to ``upto``, those still held."""

    @abstractmethod
    async def presence_add(self, channel: str, key: str) -> bool | None:
        """Records a connection; ``key`` ends with ``/{member}``. True when it is that member's
        first connection (in every process), so that it is announced once; None when the
        broker cannot say now."""

    @abstractmethod
    async def presence_remove(self, channel: str, key: str) -> bool | None:
        """Forgets a connection. True when it was its member's last; None when the broker
        cannot say now (then its entry expires and is reaped by itself)."""

    @abstractmethod
    async def presence_refresh(self, channel: str, keys: list[str]) -> None:
        """Confirms that these connections are still there (a process that dies stops doing it)."""

    @abstractmethod
    async def online(self, channel: str) -> set[str] | None:
        """The members connected to the channel, in every process; None when unknown."""

    @abstractmethod
    async def notify_presence(self, channel: str) -> None:
        """Tells every process that the channel's presence changed (without an event)."""

    @abstractmethod
    async def reap(self, channel: str) -> list[str]:
        """Removes the connections whose process stopped confirming them, and returns the
        members that had no other connection left. Each is returned to one caller only, in the
        whole cluster."""
