"""The broker: what carries a room's events between processes, keeps its history, and knows who
is online.

The interface follows encode/broadcaster's (publish to a channel, subscribe to one), plus the
two things a room needs to lose nothing: each event is placed at an offset in a bounded history
when it is published (``append``), and a subscriber can ask for what it missed (``replay``,
``read_range``). ``InMemoryBroker`` serves one process, and tests that put several hubs in one
process; ``RedisBroker`` (redis_broker.py) serves many processes on many hosts.
"""

import itertools
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from app.rooms.events import EventDraft, Position, Replay, RoomEvent

logger = logging.getLogger(__name__)

EventHandler = Callable[[RoomEvent], None]
ConnectedHandler = Callable[[], Awaitable[None]]
NoticeHandler = Callable[[str], None]  # (room)


@dataclass(frozen=True)
class BrokerHealth:
    kind: Literal["memory", "redis"]
    connected: bool


@dataclass(frozen=True)
class HistoryLimits:
    """How much a room remembers, by count and by age, and how much a newcomer is shown."""

    max_events: int = 1000
    max_age: float = 600.0  # seconds
    replay_on_join: int = 50


def new_epoch() -> str:
    return secrets.token_hex(4)


def client_id_of(key: str) -> int:
    """Presence keys end with ``/{client_id}``."""
    return int(key.rsplit("/", 1)[1])


class Broker(ABC):
    """Rooms shared by every process of the app."""

    def __init__(self, limits: HistoryLimits) -> None:
        self.limits = limits
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
    async def append(self, draft: EventDraft) -> tuple[RoomEvent, bool]:
        """Places the event at the room's next offset, keeps it in the history and delivers it
        to every subscribed process, as one atomic step. A draft with the ``message_id`` of an
        event the room already holds (from the same client) is not placed again: that event is
        returned, with True. Raises ``RoomUnavailable`` when the room cannot take it."""

    @abstractmethod
    async def replay(self, room: str, since: Position | None) -> Replay:
        """What a subscriber resuming from ``since`` missed; the recent events when it cannot
        be resumed (or when ``since`` is None). Raises ``RoomUnavailable``."""

    @abstractmethod
    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        """The events of ``epoch`` after offset ``after`` up to ``upto``, those still held."""

    @abstractmethod
    async def presence_add(self, room: str, key: str) -> None:
        """Records a connection in a room; ``key`` ends with ``/{client_id}``."""

    @abstractmethod
    async def presence_remove(self, room: str, key: str) -> None: ...

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
        """Removes the connections whose process stopped confirming them, and returns their
        client ids. Each is returned to one caller only, in the whole cluster."""


@dataclass
class _History:
    epoch: str
    limits: HistoryLimits
    offset: int = 0
    events: deque[RoomEvent] = field(default_factory=deque)
    # (client_id, message_id) of the events held, to recognise a message sent twice.
    message_ids: OrderedDict[tuple[int, str], RoomEvent] = field(default_factory=OrderedDict)

    def append(self, draft: EventDraft) -> tuple[RoomEvent, bool]:
        key = (draft.client_id, draft.message_id) if draft.message_id is not None else None
        if key is not None and (held := self.message_ids.get(key)) is not None:
            return held, True
        self.offset += 1
        event = RoomEvent(**draft.model_dump(), epoch=self.epoch, offset=self.offset)
        self.events.append(event)
        if len(self.events) > self.limits.max_events:
            self.events.popleft()
        if key is not None:
            self.message_ids[key] = event
            while len(self.message_ids) > self.limits.max_events:
                self.message_ids.popitem(last=False)
        return event, False

    def replay(self, since: Position | None) -> Replay:
        return replay_from(
            since,
            Position(self.epoch, self.offset),
            held=list(self.events),
            limits=self.limits,
        )


def replay_from(
    since: Position | None, now: Position, held: list[RoomEvent], limits: HistoryLimits
) -> Replay:
    """The replay for a subscriber at ``since``, from the events a room holds (oldest first)."""
    cutoff = time.time() * 1000 - limits.max_age * 1000
    fresh = [event for event in held if event.at >= cutoff]
    recent = fresh[-limits.replay_on_join :] if limits.replay_on_join else []
    if since is None:
        return Replay(recent, now, recovered=False, reason="first_join")
    if since.epoch != now.epoch or since.offset > now.offset:
        # The history since `since` is lost; the new epoch's, when all of it is still held,
        # is not: whoever had a position gets all of it (else the recent events).
        whole_epoch = [event for event in fresh if event.epoch == now.epoch]
        if whole_epoch and whole_epoch[0].offset == 1 and len(whole_epoch) == now.offset:
            return Replay(whole_epoch, now, recovered=False, reason="epoch_changed")
        return Replay(recent, now, recovered=False, reason="epoch_changed")
    if since.offset == now.offset:
        return Replay([], now, recovered=True, reason=None)
    if not held or held[0].offset > since.offset + 1:
        return Replay(recent, now, recovered=False, reason="too_far_behind")
    missed = [event for event in held if event.offset > since.offset]
    if missed[0].at < cutoff:
        return Replay(recent, now, recovered=False, reason="expired")
    return Replay(missed, now, recovered=True, reason=None)


class InMemoryBroker(Broker):
    """One process: every handler hears every room, and the history lives here, so it is lost
    (a new epoch) when the process restarts."""

    def __init__(self, limits: HistoryLimits | None = None) -> None:
        super().__init__(limits or HistoryLimits())
        self._presence: dict[str, set[str]] = {}
        self._histories: dict[str, _History] = {}
        self._appends = itertools.count()

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

    def _history(self, room: str) -> _History:
        history = self._histories.get(room)
        if history is None:
            history = self._histories[room] = _History(new_epoch(), self.limits)
        return history

    async def append(self, draft: EventDraft) -> tuple[RoomEvent, bool]:
        if next(self._appends) % 1000 == 0:
            self._forget_quiet_rooms()
        event, duplicate = self._history(draft.room).append(draft)
        if not duplicate:
            self._dispatch(event)
        return event, duplicate

    async def replay(self, room: str, since: Position | None) -> Replay:
        return self._history(room).replay(since)

    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        history = self._histories.get(room)
        if history is None or history.epoch != epoch:
            return []
        return [event for event in history.events if after < event.offset <= upto]

    def _forget_quiet_rooms(self) -> None:
        """Rooms whose newest event is past the age limit hold nothing a client may get."""
        cutoff = time.time() * 1000 - self.limits.max_age * 1000
        for room, history in [*self._histories.items()]:
            if room not in self._presence and (
                not history.events or history.events[-1].at < cutoff
            ):
                del self._histories[room]

    async def presence_add(self, room: str, key: str) -> None:
        self._presence.setdefault(room, set()).add(key)

    async def presence_remove(self, room: str, key: str) -> None:
        keys = self._presence.get(room, set())
        keys.discard(key)
        if not keys:
            self._presence.pop(room, None)

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        pass  # nothing here outlives the process

    async def online(self, room: str) -> set[int]:
        return {client_id_of(key) for key in self._presence.get(room, ())}

    async def notify_presence(self, room: str) -> None:
        self._dispatch_notice(room)

    async def reap(self, room: str) -> list[int]:
        return []  # one process: its connections end with it
