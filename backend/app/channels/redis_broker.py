"""The broker for many processes: a Redis stream per channel for its history, an atomic script
that places, keeps and publishes each event, pub/sub for delivery, a sorted set for presence.

Keys of one channel share a hash tag (``ch:{chat:general}:...``), so they live on one node of a
Redis Cluster, as a script touching several keys needs.

It survives Redis going away: appending fails fast (the channel says it is unavailable), a
single reader task reconnects with backoff, resubscribes, and then tells the hubs
(``on_connected``) so that they re-register presence and fill any gap from the history. A Redis
that comes back empty has no epoch for a channel: the next read or append starts a new one,
which is how clients learn that the history is gone.
"""

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from app.channels.broker import Broker, BrokerHealth, LimitsFor, member_of, new_epoch
from app.channels.events import (
    ChannelEvent,
    ChannelUnavailable,
    EventDraft,
    OutcomeUnknown,
    Position,
    Replay,
)
from app.channels.history import HistoryLimits, replay_from
from app.channels.redis_scripts import APPEND, PRESENCE_ADD, PRESENCE_REMOVE

logger = logging.getLogger(__name__)

UNREACHABLE = "the channel's broker (Redis) is unreachable"

TOPIC_SUFFIX = ":events"
CONTROL_CHANNEL = "channels:control"  # always subscribed, so the reader holds a connection


def _keys(channel: str) -> tuple[str, str, str, str, str]:
    """meta, log, ids, presence, counts: one hash tag, so one slot of a Redis Cluster."""
    tag = f"ch:{{{channel}}}"
    return f"{tag}:meta", f"{tag}:log", f"{tag}:ids", f"{tag}:presence", f"{tag}:counts"


def _topic(channel: str) -> str:
    """The pub/sub channel that carries a channel's events."""
    return f"ch:{{{channel}}}{TOPIC_SUFFIX}"


def _channel_of(topic: str) -> str | None:
    if not topic.endswith(TOPIC_SUFFIX) or not topic.startswith("ch:{"):
        return None
    return topic[len("ch:{") : -len(TOPIC_SUFFIX) - 1]


class RedisBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        limits: HistoryLimits | LimitsFor | None = None,
        max_channels: int = 1000,
        presence_ttl: float = 10.0,
        reconnect_base: float = 0.25,
        reconnect_cap: float = 5.0,
    ) -> None:
        fixed = limits or HistoryLimits()
        super().__init__(fixed if callable(fixed) else lambda _channel: fixed, max_channels)
        self._presence_ttl = presence_ttl
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self._channels_here: set[str] = set()
        # Short timeouts: a broker that does not answer must not hold up a chat message.
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._append = self._redis.register_script(APPEND)
        self._presence_add = self._redis.register_script(PRESENCE_ADD)
        self._presence_remove = self._redis.register_script(PRESENCE_REMOVE)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = False
        # Which Redis answered last (INFO's run_id): a new one came back empty, and presence is
        # partial until every process had its presence lifetime to re-register.
        self._run_id: str | None = None
        self._presence_settled_at = 0.0

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

    async def subscribe(self, channel: str) -> None:
        self._channels_here.add(channel)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.subscribe(_topic(channel))
            except (RedisError, OSError) as exc:
                self._lost(exc)  # the reader resubscribes to every channel on reconnect

    async def unsubscribe(self, channel: str) -> None:
        self._channels_here.discard(channel)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.unsubscribe(_topic(channel))
            except (RedisError, OSError) as exc:
                self._lost(exc)

    def _channel_in_use(self, channel: str) -> bool:
        return channel in self._channels_here

    def _forget_channel(self, channel: str) -> None:
        pass  # nothing kept here: its keys expire in Redis by themselves

    def _channel_forgettable(self, channel: str, idle_for: float) -> bool:
        # Once its log has expired, a channel costs Redis only its small meta key, which
        # expires one history age later.
        return idle_for > self.limits_for(channel).max_age + 1

    # --- history ----------------------------------------------------------------------------

    async def append(
        self, draft: EventDraft, dedup: str | None = None
    ) -> tuple[ChannelEvent, bool]:
        if not self._connected:
            raise ChannelUnavailable(UNREACHABLE)
        self.admit(draft.channel)
        meta, log, ids, _, _ = _keys(draft.channel)
        limits = self.limits_for(draft.channel)
        body = draft.model_dump_json()
        log_lifetime = int(limits.max_age * 1000) + 1000
        try:
            kind, event = await self._append(
                keys=[meta, log, ids],
                args=[
                    new_epoch(),
                    body[:-1],  # the script appends the epoch and offset
                    limits.max_events,
                    limits.max_bytes,
                    log_lifetime,
                    2 * log_lifetime,  # the epoch outlives its log: "expired", not "lost"
                    _topic(draft.channel),
                    dedup or "",
                ],
            )
        except RedisTimeout as exc:
            self._lost(exc)
            raise OutcomeUnknown("the channel's broker (Redis) did not answer in time") from exc
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        return ChannelEvent.model_validate_json(event), kind == b"held"

    async def replay(self, channel: str, since: Position | None) -> Replay:
        self.admit(channel)
        meta, log, _, _, _ = _keys(channel)
        limits = self.limits_for(channel)
        wanted = limits.max_events if since is not None else limits.replay_on_join
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hsetnx(meta, "epoch", new_epoch())  # a new channel gets its epoch
                pipe.hmget(meta, "epoch", "offset", "aged_out")
                pipe.xrevrange(log, "+", "-", count=max(1, wanted))
                _, (epoch, offset, aged_out), newest_first = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        held = [_event_of(fields) for _, fields in reversed(newest_first)]
        now = Position(epoch.decode(), int(offset or 0))
        return replay_from(since, now, held, limits, aged_out=int(aged_out or 0))

    async def read_range(
        self, channel: str, epoch: str, after: int, upto: int
    ) -> list[ChannelEvent]:
        if upto <= after:
            return []
        log = _keys(channel)[1]
        try:
            entries = await self._redis.xrange(log, f"{after + 1}-1", f"{upto}-1")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        return [event for _, fields in entries or [] if (event := _event_of(fields)).epoch == epoch]

    # --- presence -----------------------------------------------------------------------------

    async def presence_add(self, channel: str, key: str) -> bool | None:
        first = await self._add_presence(channel, [key])
        return None if first is None else bool(first)

    async def presence_refresh(self, channel: str, keys: list[str]) -> None:
        await self._add_presence(channel, keys)

    async def _add_presence(self, channel: str, keys: list[str]) -> list[str] | None:
        if not self._connected or not keys:
            return None
        _, _, _, presence, counts = _keys(channel)
        deadline = time.time() + self._presence_ttl
        lifetime = int(self._presence_ttl * 1000) + 60_000
        pairs = [part for key in keys for part in (key, member_of(key))]
        try:
            first = await self._presence_add(
                keys=[presence, counts], args=[deadline, lifetime, *pairs]
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return [_text(member) for member in first]

    async def presence_remove(self, channel: str, key: str) -> bool | None:
        last = await self._remove_presence(channel, [key])
        return None if last is None else bool(last)

    async def _remove_presence(self, channel: str, keys: list[str]) -> list[str] | None:
        if not self._connected:
            return None  # the entries expire, and are reaped, by themselves
        if not keys:
            return []
        _, _, _, presence, counts = _keys(channel)
        pairs = [part for key in keys for part in (key, member_of(key))]
        try:
            last = await self._presence_remove(keys=[presence, counts], args=pairs)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return [_text(member) for member in last]

    async def online(self, channel: str) -> set[str] | None:
        if not self._connected:
            return None
        try:
            keys = await self._redis.zrangebyscore(_keys(channel)[3], time.time(), "+inf")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return {member_of(_text(key)) for key in keys}

    async def notify_presence(self, channel: str) -> None:
        if not self._connected:
            return
        try:
            await self._redis.publish(CONTROL_CHANNEL, channel)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def reap(self, channel: str) -> list[str]:
        if not self._connected:
            return []
        presence = _keys(channel)[3]
        try:
            expired = await self._redis.zrangebyscore(presence, "-inf", time.time())
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return []
        # The script's ZREM is atomic: of all the processes reaping at once, one removes each
        # entry, and one learns that a member has no connection left.
        return await self._remove_presence(channel, [_text(key) for key in expired]) or []

    # --- the reader ---------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                failures = 0
                await self._announce_connected()
                while self._connected:  # a failed command also sends the reader to reconnect
                    message = await self._pubsub_or_fail().get_message(
                        ignore_subscribe_messages=True, timeout=1.0
                    )
                    if message is not None and message["type"] == "message":
                        self._on_message(message["channel"].decode(), message["data"])
                raise RedisError("connection lost")
            except (RedisError, OSError) as exc:
                self._lost(exc)
                await self._close_pubsub()
                # Full jitter: processes cut off together do not all come back at once.
                ceiling = min(self._reconnect_cap, self._reconnect_base * 2**failures)
                delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
                failures += 1
                await asyncio.sleep(delay)

    def _on_message(self, channel: str, data: bytes) -> None:
        if channel == CONTROL_CHANNEL:
            self._dispatch_notice(data.decode())
            return
        if _channel_of(channel) is None:
            return
        try:
            event = ChannelEvent.model_validate_json(data)
        except ValueError:
            logger.warning("channel broker: ignored a malformed event on %s", channel)
            return
        self._dispatch(event)

    async def connect_once(self) -> bool:
        """For a one-off publisher (a script): connected, without a reader, since it follows
        nothing. False when Redis cannot be reached."""
        try:
            await self._redis.ping()
        except (RedisError, OSError):
            return False
        self._connected = True
        return True

    def presence_settles_in(self) -> float:
        return max(0.0, self._presence_settled_at - time.monotonic())

    async def _connect(self) -> None:
        # Connections pooled before an outage are dead: the first command on one would fail.
        await self._redis.connection_pool.disconnect()
        await self._redis.ping()
        run_id = str((await self._redis.info("server")).get("run_id", ""))
        if self._run_id is not None and run_id != self._run_id:
            self._presence_settled_at = time.monotonic() + self._presence_ttl
        self._run_id = run_id
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CONTROL_CHANNEL, *(_topic(ch) for ch in self._channels_here))
        self._pubsub = pubsub
        if not self._connected:
            self._connected = True
            logger.info("channel broker: connected to Redis, %d channels", len(self._channels_here))

    def _pubsub_or_fail(self) -> PubSub:
        if self._pubsub is None:
            raise RedisError("not subscribed")
        return self._pubsub

    def _lost(self, exc: BaseException) -> None:
        if self._connected:
            self._connected = False
            logger.warning("channel broker: lost Redis (%s); channels wait until it returns", exc)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def _event_of(fields: Any) -> ChannelEvent:
    return ChannelEvent.model_validate_json(fields[b"e"])


def _text(value: Any) -> str:
    """redis-py answers bytes (no decode_responses here: events stay bytes until parsed)."""
    return value.decode() if isinstance(value, bytes) else str(value)
