"""The broker for many processes: a Redis stream per room for its history, an atomic script that
places, keeps and publishes each event, pub/sub for delivery, a sorted set for presence.

Keys of one room share a hash tag (``room:{general}:...``), so they live on one node of a Redis
Cluster, as a script touching several keys needs.

It survives Redis going away: appending fails fast (the room says it is unavailable), a single
reader task reconnects with backoff, resubscribes, and then tells the rooms (``on_connected``)
so that they re-register presence and fill any gap from the history. A Redis that comes back
empty has no epoch for a room: the next read or append starts a new one, which is how clients
learn that the history is gone.
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

from app.rooms.broker import (
    Broker,
    BrokerHealth,
    HistoryLimits,
    client_id_of,
    new_epoch,
    replay_from,
)
from app.rooms.events import EventDraft, Position, Replay, RoomEvent, RoomUnavailable

logger = logging.getLogger(__name__)

CHANNEL_SUFFIX = ":events"
CONTROL_CHANNEL = "rooms:control"  # always subscribed, so the reader holds a connection

# KEYS: meta, log, message id (or the meta key again when the draft has no id)
# ARGV: candidate epoch, the event as JSON without its last "}", max events, log lifetime (s),
#       meta lifetime (s), channel, "1" when KEYS[3] is a message id
APPEND = """
if ARGV[7] == '1' then
  local held = redis.call('GET', KEYS[3])
  if held then return {'held', held} end
end
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local event = ARGV[2] .. ',"epoch":"' .. epoch .. '","offset":' .. offset .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], offset .. '-1', 'e', event)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if ARGV[7] == '1' then redis.call('SET', KEYS[3], event, 'EX', ARGV[4]) end
redis.call('PUBLISH', ARGV[6], event)
return {'new', event}
"""


def _keys(room: str) -> tuple[str, str, str]:
    tag = f"room:{{{room}}}"
    return f"{tag}:meta", f"{tag}:log", f"{tag}:presence"


def _channel(room: str) -> str:
    return f"room:{{{room}}}{CHANNEL_SUFFIX}"


def _room_of(channel: str) -> str | None:
    if not channel.endswith(CHANNEL_SUFFIX) or not channel.startswith("room:{"):
        return None
    return channel[len("room:{") : -len(CHANNEL_SUFFIX) - 1]


class RedisBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        limits: HistoryLimits | None = None,
        presence_ttl: float = 10.0,
        reconnect_base: float = 0.25,
        reconnect_cap: float = 5.0,
    ) -> None:
        super().__init__(limits or HistoryLimits())
        self._presence_ttl = presence_ttl
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self._rooms: set[str] = set()
        # Short timeouts: a broker that does not answer must not hold up a chat message.
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._append = self._redis.register_script(APPEND)
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

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.subscribe(_channel(room))
            except (RedisError, OSError) as exc:
                self._lost(exc)  # the reader resubscribes to every room on reconnect

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)
        if self._pubsub is not None and self._connected:
            try:
                await self._pubsub.unsubscribe(_channel(room))
            except (RedisError, OSError) as exc:
                self._lost(exc)

    # --- history ----------------------------------------------------------------------------

    async def append(self, draft: EventDraft) -> tuple[RoomEvent, bool]:
        if not self._connected:
            raise RoomUnavailable("the room's broker (Redis) is unreachable")
        meta, log, _ = _keys(draft.room)
        has_id = draft.message_id is not None
        id_key = (
            f"room:{{{draft.room}}}:msg:{draft.client_id}:{draft.message_id}" if has_id else meta
        )
        body = draft.model_dump_json()
        log_lifetime = int(self.limits.max_age) + 1
        try:
            kind, event = await self._append(
                keys=[meta, log, id_key if has_id else meta],
                args=[
                    new_epoch(),
                    body[:-1],  # the script appends the epoch and offset
                    self.limits.max_events,
                    log_lifetime,
                    max(log_lifetime, 86_400),  # the epoch outlives a quiet spell
                    _channel(draft.room),
                    "1" if has_id else "0",
                ],
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        return RoomEvent.model_validate_json(event), kind == b"held"

    async def replay(self, room: str, since: Position | None) -> Replay:
        meta, log, _ = _keys(room)
        wanted = self.limits.max_events if since is not None else self.limits.replay_on_join
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hsetnx(meta, "epoch", new_epoch())  # a room without history gets its epoch
                pipe.hmget(meta, "epoch", "offset")
                pipe.xrevrange(log, "+", "-", count=max(1, wanted))
                _, (epoch, offset), newest_first = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        held = [_event_of(fields) for _, fields in reversed(newest_first)]
        now = Position(epoch.decode(), int(offset or 0))
        return replay_from(since, now, held, self.limits)

    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        if upto <= after:
            return []
        _, log, _ = _keys(room)
        try:
            entries = await self._redis.xrange(log, f"{after + 1}-1", f"{upto}-1")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        return [event for _, fields in entries or [] if (event := _event_of(fields)).epoch == epoch]

    # --- presence -----------------------------------------------------------------------------

    async def presence_add(self, room: str, key: str) -> None:
        await self.presence_refresh(room, [key])

    async def presence_remove(self, room: str, key: str) -> None:
        if not self._connected:
            return  # the entry expires, and is reaped, by itself
        try:
            await self._redis.zrem(_keys(room)[2], key)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        if not self._connected or not keys:
            return
        presence = _keys(room)[2]
        deadline = time.time() + self._presence_ttl
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(presence, dict.fromkeys(keys, deadline))
                pipe.expire(presence, int(self._presence_ttl) + 60)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def online(self, room: str) -> set[int] | None:
        if not self._connected:
            return None
        try:
            keys = await self._redis.zrangebyscore(_keys(room)[2], time.time(), "+inf")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return {client_id_of(_text(key)) for key in keys}

    async def notify_presence(self, room: str) -> None:
        if not self._connected:
            return
        try:
            await self._redis.publish(CONTROL_CHANNEL, room)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def reap(self, room: str) -> list[int]:
        if not self._connected:
            return []
        presence = _keys(room)[2]
        try:
            expired = await self._redis.zrangebyscore(presence, "-inf", time.time())
            if not expired:
                return []
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in expired:
                    pipe.zrem(presence, _text(key))
                removed = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return []
        # ZREM is atomic: of all the processes reaping at once, one removes each entry.
        reaped = (key for key, gone in zip(expired, removed, strict=True) if gone)
        return [client_id_of(_text(key)) for key in reaped]

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
        if _room_of(channel) is None:
            return
        try:
            event = RoomEvent.model_validate_json(data)
        except ValueError:
            logger.warning("room broker: ignored a malformed event on %s", channel)
            return
        self._dispatch(event)

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
        await pubsub.subscribe(CONTROL_CHANNEL, *(_channel(room) for room in self._rooms))
        self._pubsub = pubsub
        if not self._connected:
            self._connected = True
            logger.info("room broker: connected to Redis, %d rooms", len(self._rooms))

    def _pubsub_or_fail(self) -> PubSub:
        if self._pubsub is None:
            raise RedisError("not subscribed")
        return self._pubsub

    def _lost(self, exc: BaseException) -> None:
        if self._connected:
            self._connected = False
            logger.warning("room broker: lost Redis (%s); rooms wait until it returns", exc)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def _event_of(fields: Any) -> RoomEvent:
    return RoomEvent.model_validate_json(fields[b"e"])


def _text(value: Any) -> str:
    """redis-py answers bytes (no decode_responses here: events stay bytes until parsed)."""
    return value.decode() if isinstance(value, bytes) else str(value)
