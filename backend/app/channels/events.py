"""What is published to a channel, and where it stands in the channel's stream.

Every event gets an offset, gapless and increasing, within an epoch. The epoch names one
unbroken history: it changes whenever the history is lost (a process restarted without Redis,
a Redis that came back empty, a channel forgotten to make room for another), so that a
position from before says so instead of lying.

An event's ``data`` is its payload as JSON text, validated against the channel's model when it
was published and never parsed again on its way: every process and every subscriber gets the
same bytes, and a frame embeds them as they are.
"""

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

# Published: a payload someone published. Joined and left: a member's first connection to a
# channel with presence, and its last (data: {"member": ...}).
EventKind = Literal["published", "joined", "left"]


class EventDraft(BaseModel):
    """An event before the channel has placed it: no epoch or offset yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EventKind
    channel: str
    # The payload, as JSON text.
    data: str
    # Who it is from, as the channel shows it (a chat member's number, a user's subject).
    sender: str | None = None
    # The publisher's id for it: a second send of the same id, by the same sender, is the same.
    message_id: str | None = None
    # Milliseconds since the epoch, on the clock of the process where it happened.
    at: float
    # The process it happened in.
    origin: str

    @classmethod
    def now(
        cls,
        kind: EventKind,
        channel: str,
        data: str,
        origin: str,
        sender: str | None = None,
        message_id: str | None = None,
    ) -> "EventDraft":
        return cls(
            kind=kind,
            channel=channel,
            data=data,
            sender=sender,
            message_id=message_id,
            at=time.time() * 1000,
            origin=origin,
        )


class ChannelEvent(EventDraft):
    """An event the channel holds, at ``offset`` in ``epoch``."""

    epoch: str
    offset: int


@dataclass(frozen=True)
class Position:
    """Where a subscriber stands: it has every event of ``epoch`` up to ``offset``."""

    epoch: str
    offset: int

    def __str__(self) -> str:
        return f"{self.epoch}:{self.offset}"

    def has(self, event: ChannelEvent) -> bool:
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
# older than the history goes (by count or bytes, or by age), or it cannot be read right now.
NotRecovered = Literal["first_join", "epoch_changed", "too_far_behind", "expired", "unavailable"]


@dataclass(frozen=True)
class Replay:
    """What a subscriber gets on joining: the events it missed (or the recent ones), in order,
    and whether that is everything since the position it gave."""

    events: list[ChannelEvent]
    # Where the channel stood when it was read: the subscriber has everything up to here.
    position: Position
    recovered: bool
    reason: NotRecovered | None


class ChannelUnavailable(RuntimeError):
    """The channel cannot take or read events now (the broker is unreachable): what was being
    placed was not."""


class OutcomeUnknown(ChannelUnavailable):
    """The broker did not answer in time after the event was sent to it: it may have been
    placed, or not. Sending it again with the same idempotency key (or message id) places it
    at most once."""
