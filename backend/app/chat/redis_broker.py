"""The broker for many processes: Redis pub/sub for events, a sorted set per room for presence.

It survives Redis going away: publishing fails fast (the local process keeps chatting), a
single reader task reconnects with backoff and resubscribes, and presence is re-registered by
the hub's periodic refresh. Presence entries carry an expiry, so a process that dies leaves no
ghosts behind once its entries expire.
"""

import asyncio
import contextlib
import logging
import random
import time

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.chat.broker import Broker, BrokerHealth, client_id_of

logger = logging.getLogger(__name__)

PRESENCE_PREFIX = "chat:presence:"


class RedisBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        control_channel: str,
        presence_ttl: float = 30.0,
        reconnect_base: float = 0.25,
        reconnect_cap: float = 5.0,
    ) -> None:
        super().__init__()
        self._url = url
        # Always subscribed, so that the reader has a connection even with no room open.
        self._control_channel = control_channel
        self._presence_ttl = presence_ttl
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self._channels: set[str] = {control_channel}
        # Short timeouts: a broker that does not answer must not hold up a chat message.
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = False

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._close_pubsub()
        await self._redis.aclose()

    def health(self) -> BrokerHealth:
        return BrokerHealth(kind="redis", connected=self._connected)

    async def publish(self, channel: str, payload: str) -> None:
        if not self._connected:
            return  # the reader is reconnecting; this process's own clients already have it
        try:
            await self._redis.publish(channel, payload)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.subscribe(channel)
            except (RedisError, OSError) as exc:
                self._lost(exc)  # the reader resubscribes to every channel on reconnect

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.unsubscribe(channel)
            except (RedisError, OSError) as exc:
                self._lost(exc)

    async def presence_add(self, room: str, key: str) -> None:
        await self.presence_refresh(room, [key])

    async def presence_remove(self, room: str, key: str) -> None:
        if not self._connected:
            return  # the entry expires by itself
        try:
            await self._redis.zrem(PRESENCE_PREFIX + room, key)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        if not self._connected or not keys:
            return
        expires = time.time() + self._presence_ttl
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(PRESENCE_PREFIX + room, dict.fromkeys(keys, expires))
                pipe.expire(PRESENCE_PREFIX + room, int(self._presence_ttl) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def online(self, room: str) -> set[int]:
        if not self._connected:
            return set()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(PRESENCE_PREFIX + room, "-inf", time.time())
                pipe.zrange(PRESENCE_PREFIX + room, 0, -1)
                _, keys = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return set()
        return {client_id_of(key.decode()) for key in keys}

    # --- the reader ------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                failures = 0
                while self._connected:  # a failed publish also sends the reader to reconnect
                    message = await self._pubsub_or_fail().get_message(
                        ignore_subscribe_messages=True, timeout=1.0
                    )
                    if message is not None and message["type"] == "message":
                        self._dispatch(message["channel"].decode(), message["data"].decode())
                raise RedisError("connection lost")
            except (RedisError, OSError) as exc:
                self._lost(exc)
                await self._close_pubsub()
                # Full jitter: processes cut off together do not all come back at once.
                ceiling = min(self._reconnect_cap, self._reconnect_base * 2**failures)
                delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
                failures += 1
                await asyncio.sleep(delay)

    async def _connect(self) -> None:
        # Connections pooled before an outage are dead: the first command on one would fail.
        await self._redis.connection_pool.disconnect()
        await self._redis.ping()
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(*self._channels)
        self._pubsub = pubsub
        if not self._connected:
            self._connected = True
            logger.info("chat broker: connected to Redis, %d channels", len(self._channels))

    def _pubsub_or_fail(self) -> PubSub:
        if self._pubsub is None:
            raise RedisError("not subscribed")
        return self._pubsub

    def _lost(self, exc: BaseException) -> None:
        if self._connected:
            self._connected = False
            logger.warning("chat broker: lost Redis (%s); chat stays local until it returns", exc)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
