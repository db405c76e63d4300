"""The Redis broker's line to Redis: the client for commands, the one reader of sharded pub/sub,
and what it knows of the connection (up or down, how often it came back, why it went away).

One reader task connects, subscribes to the topics the broker names, reads, and on any failure
(a failed command, a Sentinel's ``+switch-master``, a slot that moved, a ping not answered)
starts again with jittered backoff. Each time it is connected again it tells the broker
(``on_connected``), which tells the hubs to re-register presence and fill their gaps.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub, RedisCluster
from redis.exceptions import RedisError

from app.redis_clients import RedisTopology, data_client, sentinel_clients

logger = logging.getLogger(__name__)

# An idle reader asks Redis this often whether it is there (a Redis that hangs says nothing).
LIVENESS_SECONDS = 2.0
# Sharded pub/sub in a Cluster is polled (redis-py reads the shards one after another).
CLUSTER_POLL_SECONDS = 0.005

MessageHandler = Callable[[str, bytes], None]  # (topic, data)


class RedisLink:
    def __init__(
        self,
        topology: RedisTopology,
        *,
        topics: Callable[[], set[str]],
        on_message: MessageHandler,
        on_connected: Callable[[], Awaitable[None]],
        presence_ttl: float,
        reconnect_base: float,
        reconnect_cap: float,
    ) -> None:
        self.topology = topology
        # Short timeouts: a broker that does not answer must not hold up a chat message.
        self.client = data_client(topology)
        self.cluster = isinstance(self.client, RedisCluster)
        self._topics = topics
        self._on_message = on_message
        self._on_connected = on_connected
        self._presence_ttl = presence_ttl
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self.connected = False
        self._pubsub: PubSub | ClusterPubSub | None = None
        # Around (un)subscribing and reading: redis-py's ClusterPubSub wants them apart.
        self._pubsub_lock = asyncio.Lock()
        # Wakes a reader that had nothing to read from the moment a first topic is subscribed.
        self._subscribed = asyncio.Event()
        # Unsubscriptions asked for and not yet confirmed: any other confirmation is a Cluster
        # telling that the topic's slot moved (the topic may be followed again meanwhile).
        self._leaving: Counter[str] = Counter()
        self._reader: asyncio.Task[None] | None = None
        self._watchers: list[asyncio.Task[None]] = []
        # Per data node of a Cluster, for appends that wait for replicas on their own connection.
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
        await self.client.aclose()

    async def connect_once(self) -> bool:
        """For a one-off publisher (a script): connected, without a reader, since it follows
        nothing. False when Redis cannot be reached."""
        try:
            await self.client.ping()
        except (RedisError, OSError):
            return False
        self.connected = True
        return True

    def lost(self, exc: BaseException) -> None:
        """A command failed: down until the reader is connected again."""
        if self.connected:
            self.connected = False
            self.last_outage = f"{time.strftime('%H:%M:%S')} {exc}"[:200]
            logger.warning(
                "channel broker: lost Redis (%s: %s); channels wait until it returns",
                type(exc).__name__,
                exc,
            )

    def presence_settles_in(self) -> float:
        return max(0.0, self._presence_settled_at - time.monotonic())

    async def subscribe(self, topic: str) -> None:
        try:
            async with self._pubsub_lock:
                pubsub = self._pubsub  # the one it is now: a reconnect may have replaced it
                if pubsub is None or not self.connected:
                    return  # the reader subscribes to every topic when it connects
                await pubsub.ssubscribe(topic)
            self._subscribed.set()
        except (RedisError, OSError, RuntimeError) as exc:
            self.lost(exc)  # the reader resubscribes to every topic on reconnect

    async def unsubscribe(self, topic: str) -> None:
        try:
            async with self._pubsub_lock:
                pubsub = self._pubsub
                if pubsub is None or not self.connected:
                    return
                self._leaving[topic] += 1
                await pubsub.sunsubscribe(topic)
        except (RedisError, OSError, RuntimeError) as exc:
            self.lost(exc)

    def connection_for(self, key: str) -> Redis:
        """A plain connection to the node that holds ``key`` (WAIT counts the writes of the
        connection it is sent on, which a Cluster client does not keep to one)."""
        client = self.client
        if not isinstance(client, RedisCluster):
            return client
        node = client.get_node_from_key(key)
        if node is None:
            raise RedisError("no node serves the key's slot")
        address = (str(node.host), int(node.port))
        if address not in self._nodes:
            self._nodes[address] = Redis(
                host=address[0],
                port=address[1],
                password=self.topology.password,
                socket_timeout=2,
                socket_connect_timeout=2,
            )
        return self._nodes[address]

    # --- the reader ---------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                failures = 0
                await self._on_connected()
                await self._read_while_connected()
                raise RedisError("connection lost")
            except (RedisError, OSError, RuntimeError) as exc:
                self.lost(exc)
                await self._close_pubsub()
                # Full jitter: processes cut off together do not all come back at once.
                ceiling = min(self._reconnect_cap, self._reconnect_base * 2**failures)
                delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
                failures += 1
                await asyncio.sleep(delay)

    async def _read_while_connected(self) -> None:
        """Delivers each message of the subscribed topics; returns when the connection is
        lost (a failed command, a Sentinel's switch, a slot that moved, no answer to a ping)."""
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + LIVENESS_SECONDS
        while self.connected:
            message = await self._next_message()
            if message is not None:
                self._take(message)
            if loop.time() >= next_ping:
                await self.client.ping()
                next_ping = loop.time() + LIVENESS_SECONDS
        await self._drain()

    def _take(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "smessage":
            self._on_message(text(message["channel"]), message["data"])
        elif kind == "sunsubscribe":
            topic = text(message["channel"])
            if self._leaving[topic] > 0:
                self._leaving[topic] -= 1
                if not self._leaving[topic]:
                    del self._leaving[topic]
            elif topic in self._topics():
                raise RedisError("a channel's slot moved to another shard")

    async def _drain(self) -> None:
        """Another command found Redis gone: what it had already sent this reader is still
        delivered (events it placed and published just before it went away), then it leaves."""
        pubsub = self._pubsub
        if pubsub is None or isinstance(pubsub, ClusterPubSub) or pubsub.connection is None:
            return
        with contextlib.suppress(RedisError, OSError, RuntimeError):
            while (message := await pubsub.get_message(timeout=0)) is not None:
                self._take(message)

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), 1.0)
            self._subscribed.clear()
            return None
        async with self._pubsub_lock:
            got: dict[str, Any] | None = await pubsub.get_message(timeout=0)
        if got is None:
            got = await pubsub.get_message(timeout=1.0)
        return got

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
                    name = text(message["data"]).split(" ", 1)[0]
                    if name == self.topology.master:
                        self.last_outage = f"the master switched: {text(message['data'])}"
                        self.lost(RedisError("the Sentinels switched the master"))
                        if isinstance(self.client, Redis):
                            with contextlib.suppress(RedisError, OSError):
                                await self.client.connection_pool.disconnect()
            except (RedisError, OSError):
                await asyncio.sleep(1.0)  # this Sentinel is down: the others are heard

    async def _connect(self) -> None:
        # Connections pooled before an outage are dead: the first command on one would fail.
        if isinstance(self.client, RedisCluster):
            await self.client.initialize()
            await self.client.nodes_manager.initialize()  # the slots as they are now
        else:
            await self.client.connection_pool.disconnect()
        await self.client.ping()
        await self._note_which_redis()
        pubsub = self.client.pubsub()
        topics = self._topics()
        if topics:
            await pubsub.ssubscribe(*topics)
        self._pubsub = pubsub
        if not self.connected:
            if self.last_outage is not None:
                self.reconnects += 1
            self.connected = True
            logger.info(
                "channel broker: connected to Redis (%s), %d channels",
                self.topology.describe(),
                len(topics),
            )

    async def _note_which_redis(self) -> None:
        """A Redis other than the last (INFO's run_id) may have come back empty: presence is
        partial until every process had its lifetime to re-register. In a Cluster, any
        reconnect counts so (a shard may have been restarted)."""
        if isinstance(self.client, RedisCluster):
            run_id = ""
        else:
            run_id = str((await self.client.info("server")).get("run_id", ""))
        if self._run_id is not None and (run_id != self._run_id or self.cluster):
            self._presence_settled_at = time.monotonic() + self._presence_ttl
        self._run_id = run_id

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._leaving.clear()  # a new connection confirms only what it is asked
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def text(value: Any) -> str:
    """redis-py answers bytes (no decode_responses here: events stay bytes until parsed)."""
    return value.decode() if isinstance(value, bytes) else str(value)
