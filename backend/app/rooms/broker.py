"""The broker: what carries a room's events between processes, keeps its history, and knows who
is online.

The interface follows encode/broadcaster's (publish to a channel, subscribe to one), plus the
two things a room needs to lose nothing: each event is placed at an offset in a bounded history
when it is published (``append``), and a subscriber can ask for what it missed (``replay``,
``read_range``). ``InMemoryBroker`` serves one process, and tests that put several hubs in one
process; ``RedisBroker`` (redis_broker.py) serves many processes on many hosts.
"""

import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from app.rooms.events import EventDraft, Position, Replay, RoomEvent
from app.rooms.history import History, HistoryLimits
from app.rooms.ledger import RoomLedger

logger = logging.getLogger(__name__)

EventHandler = Callable[[RoomEvent], None]
ConnectedHandler = Callable[[], Awaitable[None]]
NoticeHandler = Callable[[str], None]  # (room)


@dataclass(frozen=True)
class BrokerHealth:
    kind: Literal["memory", "redis"]
    connected: bool


def new_epoch() -> str:
    return secrets.token_hex(4)


def client_id_of(key: str) -> int:
    """Presence keys end with ``/{client_id}``."""
    return int(key.rsplit("/", 1)[1])


class Broker(ABC):
    """Rooms shared by every process of the app."""

    def __init__(self, limits: HistoryLimits, max_rooms: int) -> None:
        self.limits = limits
        # The rooms this process uses: a join or an append to one more than it may keep
        # raises RoomsFull (app.rooms.ledger).
        self.rooms = RoomLedger(
            max_rooms,
            in_use=self._room_in_use,
            forgettable=self._room_forgettable,
            forget=self._forget_room,
        )
        self._event_handlers: list[EventHandler] = []
        self._connected_handlers: list[ConnectedHandler] = []
        self._notice_handlers: list[NoticeHandler] = []

    def on_event(self, handler: EventHandler) -> None:
        """Calls ``handler(event)`` for each event of a subscribed room, in offset order."""
        self._event_handlers.append(handler)

    def on_connected(self, handler: ConnectedHandler) -> None:
        """Awaits ``handler()`` each time the broker (re)connects: time to re-register."""
        self._connected_handlers.append(handler)

    def on_presence_notice(self, handler: NoticeHandler) -> None:
        """Calls ``handler(room)`` when some process says the room's presence changed."""
        self._notice_handlers.append(handler)

    def _dispatch_notice(self, room: str) -> None:
        for handler in self._notice_handlers:
            try:
                handler(room)
            except Exception:
                logger.exception("room broker: a handler failed on a notice for %s", room)

    def _dispatch(self, event: RoomEvent) -> None:
        for handler in self._event_handlers:
            try:
                handler(event)
            except Exception:
                logger.exception("room broker: a handler failed on an event of %s", event.room)

    async def _announce_connected(self) -> None:
        for handler in self._connected_handlers:
            try:
                await handler()
            except Exception:
                logger.exception("room broker: a handler failed after reconnecting")

    def admit(self, room: str) -> None:
        """Before a room is used: raises ``RoomsFull`` when it would be one room too many."""
        self.rooms.use(room)

    @abstractmethod
    def _room_in_use(self, room: str) -> bool:
        """Whether this process has members in the room."""

    @abstractmethod
    def _room_forgettable(self, room: str, idle_for: float) -> bool:
        """Whether a room unused for ``idle_for`` seconds may leave the ledger."""

    @abstractmethod
    def _forget_room(self, room: str) -> None:
        """Frees what this process kept for a room that left the ledger."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def health(self) -> BrokerHealth: ...

    def presence_settles_in(self) -> float:
        """Seconds until the broker's presence can be trusted whole again (0: it can). After
        a shared broker comes back empty, every other process has yet to re-register."""
        return 0.0

    @abstractmethod
    async def subscribe(self, room: str) -> None:
        """Starts delivering the room's events to this process; kept across reconnects."""

    @abstractmethod
    async def unsubscribe(self, room: str) -> None: ...

    @abstractmethod
    async def append(self, draft: EventDraft, dedup: str | None = None) -> tuple[RoomEvent, bool]:
        """Places the event at the room's next offset, keeps it in the history and delivers it
        to every subscribed process, as one atomic step. A draft with the ``dedup`` key of an
        event the room still holds (a message sent again) is not placed again: that event is
        returned, with True. Raises ``RoomUnavailable`` when the room cannot take it, and
        ``RoomsFull`` when it would be one room too many."""

    @abstractmethod
    async def replay(self, room: str, since: Position | None) -> Replay:
        """What a subscriber resuming from ``since`` missed; the recent events when it cannot
        be resumed (or when ``since`` is None). Raises ``RoomUnavailable``."""

    @abstractmethod
    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        """The events of ``epoch`` after offset ``after`` up to ``upto``, those still held."""

    @abstractmethod
    async def presence_add(self, room: str, key: str) -> bool | None:
        """Records a connection in a room; ``key`` ends with ``/{client_id}``. True when it is
        that client id's first connection in the room (in every process), so that it is
        announced once; None when the broker cannot say now."""

    @abstractmethod
    async def presence_remove(self, room: str, key: str) -> bool | None:
        """Forgets a connection. True when it was its client id's last in the room; None when
        the broker cannot say now (then its entry expires and is reaped by itself)."""

    @abstractmethod
    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        """Confirms that these connections are still there (a process that dies stops doing it)."""

    @abstractmethod
    async def online(self, room: str) -> set[int] | None:
        """The client ids connected to the room, in every process; None when unknown."""

    @abstractmethod
    async def notify_presence(self, room: str) -> None:
        """Tells every process that the room's presence changed (without an event)."""

    @abstractmethod
    async def reap(self, room: str) -> list[int]:
        """Removes the connections whose process stopped confirming them, and returns the
        client ids that had no other connection left. Each is returned to one caller only,
        in the whole cluster."""


class InMemoryBroker(Broker):
    """One process: every handler hears every room, and the history lives here, so it is lost
    (a new epoch) when the process restarts. All rooms' histories together stay within
    ``total_bytes``: beyond it, the biggest room forgets its oldest event first."""

    def __init__(
        self,
        limits: HistoryLimits | None = None,
        *,
        max_rooms: int = 1000,
        total_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        super().__init__(limits or HistoryLimits(), max_rooms)
        self.total_bytes = total_bytes
        self.held_bytes = 0
        # room -> client id -> its connections' keys
        self._presence: dict[str, dict[int, set[str]]] = {}
        self._histories: dict[str, History] = {}

    async def start(self) -> None:
        await self._announce_connected()

    async def stop(self) -> None:
        pass

    def health(self) -> BrokerHealth:
        return BrokerHealth(kind="memory", connected=True)

    async def subscribe(self, room: str) -> None:
        pass

    async def unsubscribe(self, room: str) -> None:
        pass

    def _room_in_use(self, room: str) -> bool:
        return room in self._presence

    def _room_forgettable(self, room: str, idle_for: float) -> bool:
        return True  # its history goes with it: a client back later is told the epoch changed

    def _forget_room(self, room: str) -> None:
        history = self._histories.pop(room, None)
        if history is not None:
            self.held_bytes -= history.bytes

    def _history(self, room: str) -> History:
        self.admit(room)
        history = self._histories.get(room)
        if history is None:
            history = self._histories[room] = History(new_epoch(), self.limits)
        else:
            self.held_bytes -= history.drop_expired(time.time() * 1000)
        return history

    async def append(self, draft: EventDraft, dedup: str | None = None) -> tuple[RoomEvent, bool]:
        history = self._history(draft.room)
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
        """Over the budget for all rooms: the biggest histories give up their oldest events
        (a client resuming from one of those is told it is too far behind)."""
        while self.held_bytes > self.total_bytes:
            biggest = max(self._histories.values(), key=lambda history: history.bytes)
            if len(biggest.events) <= 1:
                return
            self.held_bytes -= biggest.drop_oldest()

    async def replay(self, room: str, since: Position | None) -> Replay:
        return self._history(room).replay(since)

    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        history = self._histories.get(room)
        if history is None or history.epoch != epoch:
            return []
        return [event for event in history.events if after < event.offset <= upto]

    async def presence_add(self, room: str, key: str) -> bool:
        connections = self._presence.setdefault(room, {}).setdefault(client_id_of(key), set())
        connections.add(key)
        return len(connections) == 1

    async def presence_remove(self, room: str, key: str) -> bool:
        clients = self._presence.get(room, {})
        connections = clients.get(client_id_of(key), set())
        if key not in connections:
            return False
        connections.discard(key)
        if connections:
            return False
        del clients[client_id_of(key)]
        if not clients:
            del self._presence[room]
        return True

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        pass  # nothing here outlives the process

    async def online(self, room: str) -> set[int]:
        return set(self._presence.get(room, {}))

    async def notify_presence(self, room: str) -> None:
        self._dispatch_notice(room)

    async def reap(self, room: str) -> list[int]:
        return []  # one process: its connections end with it
