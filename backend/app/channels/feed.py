"""One channel in one process: its local subscribers, fed in offset order, without gaps.

The broker delivers a channel's events in the order they were placed. When one arrives further on
than expected (events went past while this process's subscription was down, say), the feed
fetches the missing ones from the history first, and holds what comes meanwhile, so that every
subscriber sees the channel's stream in order and whole, as far as the history reaches.

A subscriber that joins with a position is first brought up to date from the history
(``catch_up``), while the events that arrive meanwhile wait in its backlog; then it goes live.
"""

import asyncio
import logging
from typing import Generic, Protocol, TypeVar

from app.channels.broker import Broker
from app.channels.events import ChannelEvent, ChannelUnavailable, Position, Replay

logger = logging.getLogger(__name__)


class Subscriber(Protocol):
    def take(self, event: ChannelEvent) -> None:
        """One event, in order; a subscriber skips what it has already."""


S = TypeVar("S", bound=Subscriber)


class ChannelFeed(Generic[S]):
    def __init__(self, broker: Broker, channel: str) -> None:
        self.broker = broker
        self.channel = channel
        self.subscribers: set[S] = set()
        # The last event fed to subscribers here; None until this process has seen the channel.
        self.position: Position | None = None
        self._held: list[ChannelEvent] = []
        self._filling: asyncio.Task[None] | None = None

    def on_event(self, event: ChannelEvent) -> None:
        if self._filling is not None:
            self._held.append(event)
            return
        position = self.position
        if position is not None and event.epoch != position.epoch:
            # A new epoch (the history was lost): it began at offset 1, and whatever of it
            # went past this process while it could not hear the channel comes first.
            position = Position(event.epoch, 0)
        if position is not None:
            if position.has(event):
                return  # fed already (a replay and the live stream overlapped)
            if event.offset > position.offset + 1:
                self._held.append(event)
                self._filling = asyncio.create_task(self._fill(position, event.offset - 1))
                return
        self._feed(event)

    def _feed(self, event: ChannelEvent) -> None:
        self.position = Position(event.epoch, event.offset)
        for subscriber in [*self.subscribers]:
            subscriber.take(event)

    async def _fill(self, position: Position, upto: int) -> None:
        """Fetches the gap after ``position``, then feeds it and what was held, in order."""
        try:
            missing = await self.broker.read_range(
                self.channel, position.epoch, position.offset, upto
            )
        except ChannelUnavailable:
            missing = []
        if len(missing) < upto - position.offset:
            logger.warning(
                "channel %r: %d events past this process and are no longer in the history",
                self.channel,
                upto - position.offset - len(missing),
            )
        held, self._held, self._filling = self._held, [], None
        for event in missing:
            self._feed(event)
        for event in held:
            self.on_event(event)

    async def catch_up(self, since: Position | None) -> Replay:
        """What a subscriber at ``since`` missed, read from the history; also tells the feed
        where the channel stands, if it did not know. Raises ``ChannelUnavailable``."""
        replay = await self.broker.replay(self.channel, since)
        if self.position is None:
            self.position = replay.position
        return replay
