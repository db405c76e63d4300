"""The broker for many processes: a Redis stream per channel for its history, an atomic script
that places, keeps and publishes each event, sharded pub/sub for delivery, a sorted set for
presence; on one Redis, on a master watched by Sentinels, or on a Redis Cluster
(``app.redis_clients``).

Keys of one channel share a hash tag (``ch:{chat:general}:...``) with its pub/sub channel, so
they live on one shard of a Cluster, as a script touching several keys needs, and an event is
published (``SPUBLISH``) on the shard that owns its channel rather than to every node.

It survives Redis going away: appending fails fast (the channel says it is unavailable), a
single reader task reconnects with backoff, resubscribes, and then tells the hubs
(``on_connected``) so that they re-register presence and fill any gap from the history. It
follows a failover by itself: a Sentinel's ``+switch-master`` (or the first failed command)
sends it to the new master; a Cluster's client follows slot moves and promoted replicas. A
Redis that comes back empty has no epoch for a channel: the next read or append starts a new
one, which is how clients learn that the history is gone; a failover that lost the last events
(replication is asynchronous) is noticed by the hub, which renews the epoch (``renew_epoch``)
so that no offset is given twice.
"""

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub, RedisCluster
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
from app.channels.redis_scripts import APPEND, PRESENCE_ADD, PRESENCE_REMOVE, RENEW_EPOCH
from app.redis_clients import RedisTopology, data_client, sentinel_clients

logger = logging.getLogger(__name__)

UNREACHABLE = "the channel's broker (Redis) is unreachable"

TOPIC_SUFFIX = ":events"
# Sent on a channel's topic instead of an event: its presence changed (no event for it).
PRESENCE_NOTICE = b"!presence"
# An idle reader asks Redis this often whether it is there (a Redis that hangs says nothing).
LIVENESS_SECONDS = 2.0
# Sharded pub/sub in a Cluster is polled (redis-py reads the shards one after another).
CLUSTER_POLL_SECONDS = 0.005


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
        topology: RedisTopology | str,
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
        self.topology = RedisTopology.single(topology) if isinstance(topology, str) else topology
        self._channels_here: set[str] = set()
        # Short timeouts: a broker that does not answer must not hold up a chat message.
        self._redis = data_client(self.topology)
        self._cluster = isinstance(self._redis, RedisCluster)
        self._append = self._redis.register_script(APPEND)
        self._presence_add = self._redis.register_script(PRESENCE_ADD)
        self._presence_remove = self._redis.register_script(PRESENCE_REMOVE)
        self._renew_epoch = self._redis.register_script(RENEW_EPOCH)
        self._pubsub: PubSub | ClusterPubSub | None = None
        # Around (un)subscribing and reading: redis-py's ClusterPubSub wants them apart.
        self._pubsub_lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._watchers: list[asyncio.Task[None]] = []
        self._connected = False
        # Per data node, for appends that wait for replicas on their own connection.
        self._nodes: dict[tuple[str, int], Redis] = {}
        # What /api/health tells of it: how often it came back, and why it last went away.
        self.reconnects = 0
        self.last_outage: str | None = None
        # Which Redis answered last (INFO's run_id): a new one came back empty, and presence is
        # partial until every process had its presence lifetime to re-register.
        self._run_id: str | None = None
        self._presence_settled_at = 0.0

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")
        if self.topology.kind == "sentinel":
            for client in sentinel_clients(self.topology):
                self._watchers.append(asyncio.create_task(self._watch_sentinel(client)))

    async def stop(self) -> None:
        for task in [*self._watchers, *([self._reader] if self._reader else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_pubsub()
        for node in self._nodes.values():
            await node.aclose()
        await self._redis.aclose()

    def health(self) -> BrokerHealth:
        return BrokerHealth(
            kind="redis",
            connected=self._connected,
            topology=self.topology.describe(),
            reconnects=self.reconnects,
            last_outage=self.last_outage,
        )

    async def subscribe(self, channel: str) -> None:
        self._channels_here.add(channel)
        if self._pubsub is not None and self._connected:
            try:
                async with self._pubsub_lock:
                    await self._pubsub.ssubscribe(_topic(channel))
            except (RedisError, OSError, RuntimeError) as exc:
                self._lost(exc)  # the reader resubscribes to every channel on reconnect

    async def unsubscribe(self, channel: str) -> None:
        self._channels_here.discard(channel)
        if self._pubsub is not None and self._connected:
            try:
                async with self._pubsub_lock:
                    await self._pubsub.sunsubscribe(_topic(channel))
            except (RedisError, OSError, RuntimeError) as exc:
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
        keys = [meta, log, ids, _topic(draft.channel)]
        args: list[str | int] = [
            new_epoch(),
            body[:-1],  # the script appends the epoch and offset
            limits.max_events,
            limits.max_bytes,
            log_lifetime,
            2 * log_lifetime,  # the epoch outlives its log: "expired", not "lost"
            "",
            dedup or "",
        ]
        try:
            if self.topology.wait_replicas:
                kind, event = await self._append_acknowledged(meta, keys, args)
            else:
                kind, event = await self._append(keys=keys, args=args)
        except RedisTimeout as exc:
            self._lost(exc)
            raise OutcomeUnknown("the channel's broker (Redis) did not answer in time") from exc
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        return ChannelEvent.model_validate_json(event), kind == b"held"

    async def _append_acknowledged(
        self, meta: str, keys: list[str], args: list[str | int]
    ) -> tuple[bytes, bytes]:
        """The append and a WAIT for the replicas, on one connection (WAIT counts that
        connection's writes): acknowledged only once APP_REDIS_WAIT_REPLICAS have it."""
        client = self._redis
        if isinstance(client, RedisCluster):
            node = client.get_node_from_key(meta)
            if node is None:
                raise RedisError("no node serves the channel's slot")
            address = (str(node.host), int(node.port))
            if address not in self._nodes:
                self._nodes[address] = Redis(
                    host=address[0],
                    port=address[1],
                    password=self.topology.password,
                    socket_timeout=2,
                    socket_connect_timeout=2,
                )
            direct: Redis = self._nodes[address]
        else:
            direct = client
        async with direct.pipeline(transaction=False) as pipe:
            await self._append(keys=keys, args=args, client=pipe)
            pipe.wait(self.topology.wait_replicas, self.topology.wait_timeout_ms)
            (kind, event), replicas = await pipe.execute()
        if kind == b"new" and replicas < self.topology.wait_replicas:
            raise OutcomeUnknown(
                f"placed, but on {replicas} of {self.topology.wait_replicas} replicas in time"
            )
        return kind, event

    async def renew_epoch(self, channel: str, seen: Position) -> bool:
        """The channel's history went back behind what this process saw (a failover lost its
        newest events): a new epoch, going on from the offset it has, so that no position is
        given twice. False when another process did it first, or nothing went back."""
        try:
            renewed = await self._renew_epoch(
                keys=[_keys(channel)[0]], args=[seen.epoch, seen.offset, new_epoch()]
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        if renewed:
            logger.warning(
                "channel %r: its history went back from %s (a failover lost events): a new epoch",
                channel,
                seen,
            )
        return bool(renewed)

    async def replay(self, channel: str, since: Position | None) -> Replay:
        self.admit(channel)
        meta, log, _, _, _ = _keys(channel)
        limits = self.limits_for(channel)
        wanted = limits.max_events if since is not None else limits.replay_on_join
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hsetnx(meta, "epoch", new_epoch())  # a new channel gets its epoch
                pipe.hmget(meta, "epoch", "offset", "aged_out", "epoch_start")
                pipe.xrevrange(log, "+", "-", count=max(1, wanted))
                _, (epoch, offset, aged_out, epoch_start), newest_first = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        held = [_event_of(fields) for _, fields in reversed(newest_first)]
        now = Position(epoch.decode(), int(offset or 0))
        return replay_from(
            since,
            now,
            held,
            limits,
            aged_out=int(aged_out or 0),
            epoch_start=int(epoch_start or 1),
        )

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
            await self._redis.spublish(_topic(channel), PRESENCE_NOTICE)
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
                await self._read_while_connected()
                raise RedisError("connection lost")
            except (RedisError, OSError, RuntimeError) as exc:
                self._lost(exc)
                await self._close_pubsub()
                # Full jitter: processes cut off together do not all come back at once.
                ceiling = min(self._reconnect_cap, self._reconnect_base * 2**failures)
                delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
                failures += 1
                await asyncio.sleep(delay)

    async def _read_while_connected(self) -> None:
        """Delivers each message of the subscribed channels; returns when the connection is
        lost (a failed command, a Sentinel's switch, a slot that moved, no answer to a ping)."""
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + LIVENESS_SECONDS
        while self._connected:
            message = await self._next_message()
            if message is not None:
                kind = message["type"]
                if kind == "smessage":
                    self._on_message(_text(message["channel"]), message["data"])
                elif kind == "sunsubscribe" and _text(message["channel"]) in self._topics():
                    raise RedisError("a channel's slot moved to another shard")
            if loop.time() >= next_ping:
                await self._redis.ping()
                next_ping = loop.time() + LIVENESS_SECONDS

    async def _next_message(self) -> dict[str, Any] | None:
        pubsub = self._pubsub
        if pubsub is None:
            raise RedisError("not subscribed")
        if isinstance(pubsub, ClusterPubSub):
            async with self._pubsub_lock:
                message = await pubsub.get_sharded_message(ignore_subscribe_messages=False)
            if message is None:
                await asyncio.sleep(CLUSTER_POLL_SECONDS)
            return message
        if pubsub.connection is None:  # nothing subscribed yet: nothing to read
            await asyncio.sleep(1.0)
            return None
        async with self._pubsub_lock:
            got: dict[str, Any] | None = await pubsub.get_message(timeout=0)
        if got is None:
            got = await pubsub.get_message(timeout=1.0)
        return got

    def _topics(self) -> set[str]:
        return {_topic(channel) for channel in self._channels_here}

    def _on_message(self, topic: str, data: bytes) -> None:
        channel = _channel_of(topic)
        if channel is None:
            return
        if data == PRESENCE_NOTICE:
            self._dispatch_notice(channel)
            return
        try:
            event = ChannelEvent.model_validate_json(data)
        except ValueError:
            logger.warning("channel broker: ignored a malformed event on %s", topic)
            return
        self._dispatch(event)

    async def _watch_sentinel(self, sentinel: Redis) -> None:
        """Listens to one Sentinel for ``+switch-master``: the pool is dropped at once, so
        that no write goes on to a demoted master that still takes them (it would lose them
        when it turns replica)."""
        while True:
            try:
                pubsub = sentinel.pubsub()
                await pubsub.subscribe("+switch-master")
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    name = _text(message["data"]).split(" ", 1)[0]
                    if name == self.topology.master:
                        self.last_outage = f"the master switched: {_text(message['data'])}"
                        self._lost(RedisError("the Sentinels switched the master"))
                        if isinstance(self._redis, Redis):
                            with contextlib.suppress(RedisError, OSError):
                                await self._redis.connection_pool.disconnect()
            except (RedisError, OSError):
                await asyncio.sleep(1.0)  # this Sentinel is down: the others are heard

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
        if isinstance(self._redis, RedisCluster):
            await self._redis.initialize()
            await self._redis.nodes_manager.initialize()  # the slots as they are now
        else:
            await self._redis.connection_pool.disconnect()
        await self._redis.ping()
        await self._note_which_redis()
        pubsub = self._redis.pubsub()
        topics = self._topics()
        if topics:
            await pubsub.ssubscribe(*topics)
        self._pubsub = pubsub
        if not self._connected:
            if self.last_outage is not None:
                self.reconnects += 1
            self._connected = True
            logger.info(
                "channel broker: connected to Redis (%s), %d channels",
                self.topology.describe(),
                len(self._channels_here),
            )

    async def _note_which_redis(self) -> None:
        """A Redis other than the last (INFO's run_id) may have come back empty: presence is
        partial until every process had its lifetime to re-register. In a Cluster, any
        reconnect counts so (a shard may have been restarted)."""
        if isinstance(self._redis, RedisCluster):
            run_id = ""
        else:
            run_id = str((await self._redis.info("server")).get("run_id", ""))
        if self._run_id is not None and (run_id != self._run_id or self._cluster):
            self._presence_settled_at = time.monotonic() + self._presence_ttl
        self._run_id = run_id

    def _lost(self, exc: BaseException) -> None:
        if self._connected:
            self._connected = False
            self.last_outage = f"{time.strftime('%H:%M:%S')} {exc}"[:200]
            logger.warning("channel broker: lost Redis (%s); channels wait until it returns", exc)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def _event_of(fields: Any) -> ChannelEvent:
    return ChannelEvent.model_validate_json(fields[b"e"])


def _text(value: Any) -> str:
    """redis-py answers bytes (no decode_responses here: events stay bytes until parsed)."""
    return value.decode() if isinstance(value, bytes) else str(value)
