"""A token bucket per connection: a flooding client is slowed down, the others are not.

Without it, a client that pipelines thousands of messages keeps its handler busy without ever
yielding (each ``receive()`` finds the next message already queued), and every other client's
round trip waits behind it. Throttling by sleeping also stops reading that client's socket, so
TCP pushes back on the flooder itself, and its buffered input stays bounded.
"""

import time
from collections.abc import Callable
from typing import Protocol


class RateLimit(Protocol):
    """Messages per second, and how many may come at once."""

    @property
    def per_second(self) -> float: ...

    @property
    def burst(self) -> int: ...


class TokenBucket:
    __slots__ = ("burst", "clock", "rate", "tokens", "updated")

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = self.clock()

    def take(self) -> float:
        """Takes one token; returns how long to wait first (0 when one was there)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
