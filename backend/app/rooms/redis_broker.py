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

from app.rooms.broker import Broker, BrokerHealth, client_id_of, new_epoch
from app.rooms.events import EventDraft, Position, Replay, RoomEvent, RoomUnavailable
from app.rooms.history import HistoryLimits, replay_from

logger = logging.getLogger(__name__)

CHANNEL_SUFFIX = ":events"
CONTROL_CHANNEL = "rooms:control"  # always subscribed, so the reader holds a connection

# Places an event, keeps it in the room's log within its bounds (count, bytes) and publishes it,
# as one atomic step; a message sent again (its dedup key still held) is answered with the event
# it already is. The ids of events no longer held are forgotten with them.
# KEYS: meta, log, ids
# ARGV: candidate epoch, the event as JSON without its last "}", max events, max bytes,
#       log lifetime (ms), meta lifetime (ms), channel, dedup key ("" for none)
APPEND = """
local dedup = ARGV[8]
if dedup ~= '' then
  local held = redis.call('ZSCORE', KEYS[3], dedup)
  if held then
    local entry = redis.call('XRANGE', KEYS[2], held .. '-1', held .. '-1')[1]
    if entry then return {'held', entry[2][2]} end
  end
end
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
if redis.call('EXISTS', KEYS[2]) == 0 then
  -- the log expired in a quiet spell: all it held is forgotten for its age
  redis.call('HSET', KEYS[1], 'bytes', 0, 'aged_out', offset - 1)
end
local event = ARGV[2] .. ',"epoch":"' .. epoch .. '","offset":' .. offset .. '}'
redis.call('XADD', KEYS[2], offset .. '-1', 'e', event)
local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', #event)
local count = redis.call('XLEN', KEYS[2])
local max_events, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while count > max_events or (bytes > max_bytes and count > 1) do
  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[2], oldest[1])
  bytes = redis.call('HINCRBY', KEYS[1], 'bytes', -#oldest[2][2])
  count = count - 1
end
if dedup ~= '' then redis.call('ZADD', KEYS[3], offset, dedup) end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.match(first[1], '^%d+'))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PUBLISH', ARGV[7], event)
return {'new', event}
"""

# Presence: a sorted set of connections (their deadlines) and a count of connections per client
# id, changed together, so that a client id's first connection and its last are each told to
# exactly one caller in the whole cluster (joined and left are announced once).
# KEYS: presence, counts. ARGV: deadline, lifetime (ms), then key and client id, pairs.
# Returns the client ids that got their first connection.
PRESENCE_ADD = """
local first = {}
for i = 3, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    if redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1) == 1 then
      table.insert(first, ARGV[i + 1])
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return first
"""
# KEYS: presence, counts. ARGV: key and client id, pairs. Returns the client ids left with no
# connection.
PRESENCE_REMOVE = """
local last = {}
for i = 1, #ARGV, 2 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    if redis.call('HINCRBY', KEYS[2], ARGV[i + 1], -1) <= 0 then
      redis.call('HDEL', KEYS[2], ARGV[i + 1])
      table.insert(last, ARGV[i + 1])
    end
  end
end
return last
"""


def _keys(room: str) -> tuple[str, str, str, str, str]:
    """meta, log, ids, presence, counts: one hash tag, so one slot of a Redis Cluster."""
    tag = f"room:{{{room}}}"
    return f"{tag}:meta", f"{tag}:log", f"{tag}:ids", f"{tag}:presence", f"{tag}:counts"


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
        max_rooms: int = 1000,
        presence_ttl: float = 10.0,
        reconnect_base: float = 0.25,
        reconnect_cap: float = 5.0,
    ) -> None:
        super().__init__(limits or HistoryLimits(), max_rooms)
        self._presence_ttl = presence_ttl
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self._rooms: set[str] = set()
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

    def _room_in_use(self, room: str) -> bool:
        return room in self._rooms

    def _forget_room(self, room: str) -> None:
        pass  # nothing kept here: its keys expire in Redis by themselves

    def _room_forgettable(self, room: str, idle_for: float) -> bool:
        # Once its log has expired, a room costs Redis only its small meta key, which
        # expires one history age later.
        return idle_for > self.limits.max_age + 1

    # --- history ----------------------------------------------------------------------------

    async def append(self, draft: EventDraft, dedup: str | None = None) -> tuple[RoomEvent, bool]:
        if not self._connected:
            raise RoomUnavailable("the room's broker (Redis) is unreachable")
        self.admit(draft.room)
        meta, log, ids, _, _ = _keys(draft.room)
        body = draft.model_dump_json()
        log_lifetime = int(self.limits.max_age * 1000) + 1000
        try:
            kind, event = await self._append(
                keys=[meta, log, ids],
                args=[
                    new_epoch(),
                    body[:-1],  # the script appends the epoch and offset
                    self.limits.max_events,
                    self.limits.max_bytes,
                    log_lifetime,
                    2 * log_lifetime,  # the epoch outlives its log: "expired", not "lost"
                    _channel(draft.room),
                    dedup or "",
                ],
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        return RoomEvent.model_validate_json(event), kind == b"held"

    async def replay(self, room: str, since: Position | None) -> Replay:
        self.admit(room)
        meta, log, _, _, _ = _keys(room)
        wanted = self.limits.max_events if since is not None else self.limits.replay_on_join
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hsetnx(meta, "epoch", new_epoch())  # a room without history gets its epoch
                pipe.hmget(meta, "epoch", "offset", "aged_out")
                pipe.xrevrange(log, "+", "-", count=max(1, wanted))
                _, (epoch, offset, aged_out), newest_first = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        held = [_event_of(fields) for _, fields in reversed(newest_first)]
        now = Position(epoch.decode(), int(offset or 0))
        return replay_from(since, now, held, self.limits, aged_out=int(aged_out or 0))

    async def read_range(self, room: str, epoch: str, after: int, upto: int) -> list[RoomEvent]:
        if upto <= after:
            return []
        log = _keys(room)[1]
        try:
            entries = await self._redis.xrange(log, f"{after + 1}-1", f"{upto}-1")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise RoomUnavailable("the room's broker (Redis) is unreachable") from exc
        return [event for _, fields in entries or [] if (event := _event_of(fields)).epoch == epoch]

    # --- presence -----------------------------------------------------------------------------

    async def presence_add(self, room: str, key: str) -> bool | None:
        first = await self._add_presence(room, [key])
        return None if first is None else bool(first)

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        await self._add_presence(room, keys)

    async def _add_presence(self, room: str, keys: list[str]) -> list[int] | None:
        if not self._connected or not keys:
            return None
        _, _, _, presence, counts = _keys(room)
        deadline = time.time() + self._presence_ttl
        lifetime = int(self._presence_ttl * 1000) + 60_000
        pairs = [part for key in keys for part in (key, str(client_id_of(key)))]
        try:
            first = await self._presence_add(
                keys=[presence, counts], args=[deadline, lifetime, *pairs]
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return [int(client_id) for client_id in first]

    async def presence_remove(self, room: str, key: str) -> bool | None:
        last = await self._remove_presence(room, [key])
        return None if last is None else bool(last)

    async def _remove_presence(self, room: str, keys: list[str]) -> list[int] | None:
        if not self._connected:
            return None  # the entries expire, and are reaped, by themselves
        if not keys:
            return []
        _, _, _, presence, counts = _keys(room)
        pairs = [part for key in keys for part in (key, str(client_id_of(key)))]
        try:
            last = await self._presence_remove(keys=[presence, counts], args=pairs)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return [int(client_id) for client_id in last]

    async def online(self, room: str) -> set[int] | None:
        if not self._connected:
            return None
        try:
            keys = await self._redis.zrangebyscore(_keys(room)[3], time.time(), "+inf")
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
        presence = _keys(room)[3]
        try:
            expired = await self._redis.zrangebyscore(presence, "-inf", time.time())
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return []
        # The script's ZREM is atomic: of all the processes reaping at once, one removes each
        # entry, and one learns that a client id has no connection left.
        return await self._remove_presence(room, [_text(key) for key in expired]) or []

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
