"""A channel's history: what it keeps for recovery, bounded by count, bytes and age, and what a
subscriber resuming from a position gets from it (``replay_from``, shared by every broker).

A sent message's dedup key (its sender's secret key and its id) is kept exactly as long as its
event: a message sent again after a lost ``ack`` is recognised while the room still holds it,
and the keys never outgrow the history.
"""

import time
from collections import deque
from dataclasses import dataclass, field

from app.channels.events import ChannelEvent, EventDraft, Position, Replay

# What an event costs beyond its text (its fields, the objects holding them, its dedup entry),
# for the history's byte bound: 1,324 bytes measured with tracemalloc on CPython 3.11, rounded up.
EVENT_OVERHEAD_BYTES = 1400


@dataclass(frozen=True)
class HistoryLimits:
    """How much a channel remembers, by count, bytes and age, and how much a newcomer is shown."""

    max_events: int = 1000
    max_bytes: int = 2 * 1024 * 1024
    max_age: float = 600.0  # seconds
    replay_on_join: int = 50


def event_size(draft: EventDraft) -> int:
    return EVENT_OVERHEAD_BYTES + (len(draft.data) if draft.data.isascii() else 4 * len(draft.data))


@dataclass(eq=False)
class History:
    """One channel's history in this process's memory (the in-memory broker's)."""

    epoch: str
    limits: HistoryLimits
    offset: int = 0
    events: deque[ChannelEvent] = field(default_factory=deque)
    sizes: deque[int] = field(default_factory=deque)
    bytes: int = 0
    # The newest offset forgotten for its age: a subscriber from before it was away too long.
    aged_out: int = 0
    # Dedup key -> offset, and the same in offset order, to forget with the events.
    dedup: dict[str, int] = field(default_factory=dict)
    dedup_order: deque[tuple[int, str]] = field(default_factory=deque)

    def append(self, draft: EventDraft, dedup: str | None) -> tuple[ChannelEvent, bool]:
        if dedup is not None and (held := self.dedup.get(dedup)) is not None:
            first = self.events[0].offset
            return self.events[held - first], True
        self.offset += 1
        event = ChannelEvent(**draft.model_dump(), epoch=self.epoch, offset=self.offset)
        self.events.append(event)
        size = event_size(draft)
        self.sizes.append(size)
        self.bytes += size
        if dedup is not None:
            self.dedup[dedup] = self.offset
            self.dedup_order.append((self.offset, dedup))
        return event, False

    def over_bounds(self) -> bool:
        limits = self.limits
        return len(self.events) > limits.max_events or (
            self.bytes > limits.max_bytes and len(self.events) > 1
        )

    def drop_oldest(self) -> int:
        """Forgets the oldest event; the bytes it freed."""
        event = self.events.popleft()
        size = self.sizes.popleft()
        self.bytes -= size
        order = self.dedup_order
        while order and order[0][0] <= event.offset:
            del self.dedup[order.popleft()[1]]
        return size

    def drop_expired(self, now_ms: float) -> int:
        """Forgets the events older than the age limit; the bytes freed."""
        cutoff = now_ms - self.limits.max_age * 1000
        freed = 0
        while self.events and self.events[0].at < cutoff:
            self.aged_out = self.events[0].offset
            freed += self.drop_oldest()
        return freed

    def replay(self, since: Position | None) -> Replay:
        return replay_from(
            since,
            Position(self.epoch, self.offset),
            held=list(self.events),
            limits=self.limits,
            aged_out=self.aged_out,
        )


def replay_from(
    since: Position | None,
    now: Position,
    held: list[ChannelEvent],
    limits: HistoryLimits,
    aged_out: int = 0,
) -> Replay:
    """The replay for a subscriber at ``since``, from the events a channel holds (oldest first).
    ``aged_out``: the newest offset the channel forgot for its age."""
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
    if not held:
        # A channel forgets its whole history only for its age (the bounds keep one event).
        return Replay(recent, now, recovered=False, reason="expired")
    if held[0].offset > since.offset + 1:
        expired = since.offset + 1 <= aged_out
        return Replay(
            recent, now, recovered=False, reason="expired" if expired else "too_far_behind"
        )
    missed = [event for event in held if event.offset > since.offset]
    if missed[0].at < cutoff:
        return Replay(recent, now, recovered=False, reason="expired")
    return Replay(missed, now, recovered=True, reason=None)
