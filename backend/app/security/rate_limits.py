"""Rates per key (a client address, a subject): how one client is kept from asking too often.

Each key has a token bucket; the table holds at most ``max_keys`` of them and forgets the least
recently used first, so that a flood of new keys costs a bounded amount of memory. A bucket
that is forgotten is the most refilled one anyway.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, status


def too_many(wait: float, detail: str) -> HTTPException:
    """429 with the seconds to wait, rounded up, in ``Retry-After``."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, detail, headers={"Retry-After": str(math.ceil(wait))}
    )


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class KeyedRateLimit:
    def __init__(
        self,
        per_second: float,
        burst: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Takes one token for ``key``: 0 when there was one, else the seconds until there
        is (and nothing is taken, so a refused client is not kept waiting longer)."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(
                self.burst, bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second

    def __len__(self) -> int:
        return len(self._buckets)
