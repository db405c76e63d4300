"""What is published to a room, and where it stands in the room's stream.

Every event gets an offset, gapless and increasing, within an epoch. The epoch names one
unbroken history: it changes whenever the history is lost (a process restarted without Redis,
a Redis that came back empty), so that a position from before says so instead of lying.
"""

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

EventKind = Literal["said", "joined", "left"]


class EventDraft(BaseModel):
    """An event before the room has placed it: no epoch or offset yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EventKind
    room: str
    client_id: int
    text: str = ""
    # The sender's id for the message: a second send of the same id is the same message.
    message_id: str | None = None
    # Milliseconds since the epoch, on the clock of the process where it happened.
    at: float
    # The process it happened in.
    origin: str

    @classmethod
    def now(
        cls,
        kind: EventKind,
        room: str,
        client_id: int,
        origin: str,
        text: str = "",
        message_id: str | None = None,
    ) -> "EventDraft":
        return cls(
            kind=kind,
            room=room,
            client_id=client_id,
            text=text,
            message_id=message_id,
            at=time.time() * 1000,
            origin=origin,
        )


class RoomEvent(EventDraft):
    """An event the room holds, at ``offset`` in ``epoch``."""

    epoch: str
    offset: int


@dataclass(frozen=True)
class Position:
    """Where a subscriber stands: it has every event of ``epoch`` up to ``offset``."""

    epoch: str
    offset: int

    def __str__(self) -> str:
        return f"{self.epoch}:{self.offset}"

    def has(self, event: "RoomEvent") -> bool:
        """Whether a subscriber at this position has the event already."""
        return event.epoch == self.epoch and event.offset <= self.offset

    @classmethod
    def parse(cls, text: str) -> "Position":
        """``epoch:offset``, as a client sends it; ValueError otherwise."""
        epoch, separator, offset = text.rpartition(":")
        if not separator or not epoch or not offset.isdigit() or len(epoch) > 64:
            raise ValueError("expected epoch:offset, e.g. 3f9a1c2b:42")
        return cls(epoch, int(offset))


# Why a position could not be resumed from: none given, the history was lost, the position is
# older than the history goes (by count or by age), or the history cannot be read right now.
NotRecovered = Literal["first_join", "epoch_changed", "too_far_behind", "expired", "unavailable"]


@dataclass(frozen=True)
class Replay:
    """What a subscriber gets on joining: the events it missed (or the recent ones), in order,
    and whether that is everything since the position it gave."""

    events: list[RoomEvent]
    # Where the room stood when it was read: the subscriber has everything up to here.
    position: Position
    recovered: bool
    reason: NotRecovered | None


class RoomUnavailable(RuntimeError):
    """The room cannot take or read events now (the broker is unreachable)."""
