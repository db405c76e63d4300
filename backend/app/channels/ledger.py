"""How many channels one process keeps: a client picks a channel's name (a chat room's, say),
so without a bound one anonymous client could open channels until memory (or Redis) runs out.

The ledger lists the channels this process has used, the most recently used last. A new one
beyond ``max_channels`` takes the place of the least recently used one that nobody here
follows and whose history may be forgotten (``forgettable``, which each broker decides); when
none may be, the new channel is refused (``ChannelsFull``) until one can.
"""

import time
from collections import OrderedDict
from collections.abc import Callable


class ChannelsFull(RuntimeError):
    """This process keeps as many channels as it may (APP_MAX_CHANNELS)."""


class ChannelLedger:
    def __init__(
        self,
        max_channels: int,
        *,
        in_use: Callable[[str], bool],
        forgettable: Callable[[str, float], bool],
        forget: Callable[[str], None] = lambda _channel: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_channels = max_channels
        self._in_use = in_use
        self._forgettable = forgettable
        self._forget = forget
        self._clock = clock
        # channel -> when it was last used (the clock's seconds)
        self._channels: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._channels)

    def __contains__(self, channel: object) -> bool:
        return channel in self._channels

    def use(self, channel: str) -> None:
        """Notes a use of ``channel``; raises ``ChannelsFull`` for a new one with no place left."""
        now = self._clock()
        if channel in self._channels:
            self._channels[channel] = now
            self._channels.move_to_end(channel)
            return
        if len(self._channels) >= self.max_channels:
            self._make_room(now)
        self._channels[channel] = now

    def _make_room(self, now: float) -> None:
        for candidate, last_used in self._channels.items():
            if not self._in_use(candidate) and self._forgettable(candidate, now - last_used):
                del self._channels[candidate]
                self._forget(candidate)
                return
        raise ChannelsFull(f"this server keeps {self.max_channels} channels at most")
