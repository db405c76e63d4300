"""How many channels one process keeps: a client picks a channel's name (a chat room's, say),
so without a bound one anonymous client could open channels until memory (or Redis) runs out.

The ledger lists the channels this process has used, the most recently used last. A new one
beyond ``max_channels`` takes the place of the least recently used one that nobody here
follows and whose history may be forgotten (``forgettable``, which each broker decides); when
none may be, the new channel is refused (``ChannelsFull``) until one can.

A place that is held until a history ages out (Redis keeps a channel's for minutes) could be
taken by one client opening channel after channel, locking everyone else out of new ones; so
new channels are also rationed per opener (a client's address): ``OpeningTooFast``.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from app.security.rate_limits import KeyedRateLimit


class ChannelsFull(RuntimeError):
    """This process keeps as many channels as it may (APP_MAX_ROOMS)."""


class OpeningTooFast(ChannelsFull):
    """One opener (a client address) opened new channels faster than it may
    (APP_NEW_CHANNELS_PER_SECOND); ``wait`` seconds until it may open another."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(
            f"too many new channels from one address: try again in {math.ceil(wait)} s"
        )


class ChannelLedger:
    def __init__(
        self,
        max_channels: int,
        *,
        in_use: Callable[[str], bool],
        forgettable: Callable[[str, float], bool],
        forget: Callable[[str], None] = lambda _channel: None,
        opening: KeyedRateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_channels = max_channels
        self._in_use = in_use
        self._forgettable = forgettable
        self._forget = forget
        self.opening = opening
        self._clock = clock
        # channel -> when it was last used (the clock's seconds)
        self._channels: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._channels)

    def __contains__(self, channel: object) -> bool:
        return channel in self._channels

    def use(self, channel: str, opener: str | None = None) -> None:
        """Notes a use of ``channel``; raises ``ChannelsFull`` for a new one with no place left,
        ``OpeningTooFast`` for a new one its opener may not open yet."""
        now = self._clock()
        if channel in self._channels:
            self._channels[channel] = now
            self._channels.move_to_end(channel)
            return
        if len(self._channels) >= self.max_channels:
            self._make_room(now)
        limit = self.opening
        if opener is not None and limit is not None and (wait := limit.take(opener)):
            raise OpeningTooFast(wait)
        self._channels[channel] = now

    def _make_room(self, now: float) -> None:
        for candidate, last_used in self._channels.items():
            if not self._in_use(candidate) and self._forgettable(candidate, now - last_used):
                del self._channels[candidate]
                self._forget(candidate)
                return
        raise ChannelsFull(f"this server keeps {self.max_channels} channels at most")
