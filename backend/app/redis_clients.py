"""Which Redis the app shares between its processes, and the clients for it: one server, a
master watched by Sentinels (which follow a failover), or a Redis Cluster (channels spread over
its shards). redis-py's asyncio clients do all three; this module only picks and builds them.

One settings road (``app.settings``): ``APP_REDIS_URL`` for one server,
``APP_REDIS_SENTINELS`` with ``APP_REDIS_SENTINEL_MASTER`` for Sentinel, ``APP_REDIS_CLUSTER``
for a Cluster's seed nodes; ``APP_REDIS_PASSWORD`` for the data nodes of the last two, and
``APP_REDIS_WAIT_REPLICAS`` to acknowledge an event only once that many replicas have it.
"""

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel

TopologyKind = Literal["single", "sentinel", "cluster"]
Address = tuple[str, int]

# A command that gets no answer in this long counts as the broker being away: a chat message
# must not wait on a Redis that hangs.
TIMEOUT_SECONDS = 2.0
CLUSTER_CONNECTIONS_PER_NODE = 2000


def parse_addresses(text: str) -> tuple[Address, ...]:
    """``"10.0.0.1:26379, 10.0.0.2:26379"``; ValueError for anything else."""
    addresses = []
    for part in text.split(","):
        host, separator, port = part.strip().rpartition(":")
        if not part.strip():
            continue
        if not separator or not host or not port.isdigit():
            raise ValueError(f"expected host:port, got {part.strip()[:60]!r}")
        addresses.append((host.strip("[]"), int(port)))
    if not addresses:
        raise ValueError("no host:port given")
    return tuple(addresses)


@dataclass(frozen=True)
class RedisTopology:
    kind: TopologyKind
    url: str | None = None
    sentinels: tuple[Address, ...] = ()
    master: str = "mymaster"
    seeds: tuple[Address, ...] = ()
    password: str | None = None
    # Replicas that must have an event before it is acknowledged (WAIT), and how long to wait.
    wait_replicas: int = 0
    wait_timeout_ms: int = 500

    @classmethod
    def single(cls, url: str) -> "RedisTopology":
        return cls("single", url=url)

    def describe(self) -> str:
        """For logs and /api/health: never the password."""
        if self.kind == "sentinel":
            nodes = ", ".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"sentinel {self.master} via {nodes}"
        if self.kind == "cluster":
            return f"cluster via {len(self.seeds)} seed nodes"
        return "single"


RedisClient = Redis | RedisCluster


def data_client(topology: RedisTopology, timeout: float = TIMEOUT_SECONDS) -> RedisClient:
    """The client through which commands reach the data: the one server, the current master
    (asked of the Sentinels on each new connection), or the cluster's owner of each slot."""
    if topology.kind == "sentinel":
        # The Sentinels' own connections get the same timeouts: one that is down must not
        # hang discovery.
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(topology.sentinels), socket_timeout=timeout, socket_connect_timeout=timeout
        )
        master: Redis = sentinel.master_for(
            topology.master,
            password=topology.password,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        return master
    if topology.kind == "cluster":
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in topology.seeds],
            password=topology.password,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # Per node. redis-py's default (100) fails a command at once when a burst of joins
            # wants more (MaxConnectionsError: every channel would take it for an outage); a
            # single Redis's pool has no bound at all.
            max_connections=CLUSTER_CONNECTIONS_PER_NODE,
        )
    assert topology.url is not None
    return Redis.from_url(topology.url, socket_timeout=timeout, socket_connect_timeout=timeout)


def sentinel_clients(topology: RedisTopology, timeout: float = TIMEOUT_SECONDS) -> list[Redis]:
    """A client per Sentinel, to hear ``+switch-master`` from whichever is up."""
    return [
        Redis(host=host, port=port, socket_timeout=None, socket_connect_timeout=timeout)
        for host, port in topology.sentinels
    ]
