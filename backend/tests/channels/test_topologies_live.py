"""Channels on every Redis topology, under a fault: a master watched by three Sentinels, and a
Redis Cluster of three shards with a replica each, both made of Debian's redis-server on free
loopback ports; two ``python -m app`` processes on each, subscribers on both, a service
publishing across, then a master killed.

What must hold: every event a publisher was told was placed reaches every subscriber, once and
in each publisher's order, or the subscriber is told truthfully that it may miss some (a sync
that is not recovered); nothing is delivered twice; presence and tickets keep working; and
``/api/health`` says what happened.
"""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.sync.client import connect

from app.security.tokens import issue_token
from testkit.redis_topologies import RedisClusterSetup, RedisSentinelSetup
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import RealtimeClient
from tests.servers import LiveServer
from tests.testkit.topologies import made_or_skipped, running

SECRET = "topology-tests-secret-of-thirty-two-chars"
PUBLISHER = {
    "Authorization": f"Bearer {issue_token(SECRET, 'svc', 600, roles=('publisher',)).token}"
}
OPERATOR = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', 600, roles=('operator',)).token}"}


@pytest.fixture
def sentinel_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisSentinelSetup]:
    yield from running(made_or_skipped(lambda: RedisSentinelSetup(tmp_path / "sentinel")), request)


@pytest.fixture
def cluster_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisClusterSetup]:
    folder = tmp_path / "cluster"
    yield from running(made_or_skipped(lambda: RedisClusterSetup(folder, replicas=1)), request)


@pytest.fixture
def two_processes_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """The shared ``two_processes`` on the topology of the test's own setup fixture
    (``sentinel_setup`` or ``cluster_setup``), with signed tokens and a short presence."""
    common = {"APP_TOKEN_SECRET": SECRET, "APP_LOG_LEVEL": "info", "APP_CHAT_PRESENCE_TTL": "3"}
    if "sentinel_setup" in request.fixturenames:
        sentinel: RedisSentinelSetup = request.getfixturevalue("sentinel_setup")
        return {
            **common,
            "APP_REDIS_SENTINELS": addresses(sentinel.sentinel_addresses),
            "APP_REDIS_SENTINEL_MASTER": sentinel.master_name,
            # An event is acknowledged only once the replica has it (see the sentinel test).
            "APP_REDIS_WAIT_REPLICAS": "1",
        }
    cluster: RedisClusterSetup = request.getfixturevalue("cluster_setup")
    return {**common, "APP_REDIS_CLUSTER": addresses(cluster.seeds)}


def addresses(nodes: list[tuple[str, int]]) -> str:
    return ",".join(f"{host}:{port}" for host, port in nodes)


class Publisher:
    """A service publishing over HTTP, sending each event again with its key until the channel
    holds it (a 503 says the broker is away, or that it may have been placed)."""

    def __init__(self, servers: list[LiveServer]) -> None:
        self.servers = servers
        self.acknowledged: dict[str, list[str]] = {}

    async def publish(self, channel: str, text: str, give_up_after: float = 40) -> None:
        deadline = time.monotonic() + give_up_after
        attempt = 0
        while time.monotonic() < deadline:
            server = self.servers[attempt % len(self.servers)]
            attempt += 1
            try:
                response = await asyncio.to_thread(
                    httpx2.post,
                    f"{server.http_url}/api/channels/{channel}/events",
                    json={"data": {"text": text}},
                    headers={**PUBLISHER, "Idempotency-Key": text},
                    timeout=5,
                )
            except httpx2.TransportError:
                await asyncio.sleep(0.2)
                continue
            if response.status_code in (200, 201):
                self.acknowledged.setdefault(channel, []).append(text)
                return
            assert response.status_code == 503, response.text
            await asyncio.sleep(0.2)
        raise AssertionError(f"{text} was never acknowledged on {channel}")


def check_delivery(client: RealtimeClient, channel: str, acknowledged: list[str]) -> None:
    """Once each, in order; everything acknowledged, unless a sync said some may be missing."""
    texts = client.texts(channel)
    assert len(texts) == len(set(texts)), f"a repeat on {channel}: {texts}"
    assert client.duplicates == 0
    in_order = [text for text in texts if text in set(acknowledged)]
    assert in_order == sorted(in_order, key=acknowledged.index), f"out of order on {channel}"
    missing = set(acknowledged) - set(texts)
    told = [sync for sync in client.syncs.get(channel, []) if not sync["recovered"]]
    truthful = any(sync["reason"] != "first_join" for sync in told)
    assert not missing or truthful, f"{len(missing)} acknowledged, missing, and not told"


def health(server: LiveServer) -> dict[str, Any]:
    """What an operator sees (anyone else: no addresses, no outage's text)."""
    answer = httpx2.get(f"{server.http_url}/api/health", headers=OPERATOR, timeout=5)
    broker: dict[str, Any] = answer.json()["chat_broker"]
    return broker


def ticket_works_across(one: LiveServer, other: LiveServer) -> None:
    ticket = httpx2.post(
        f"{one.http_url}/api/ws-tickets",
        json={"endpoint": "/items/9/ws"},
        headers={"Cookie": f"session={issue_token(SECRET, 'across', 60).token}"},
        timeout=5,
    )
    assert ticket.status_code == 201, ticket.text
    with connect(f"{other.ws_url}/items/9/ws?ticket={ticket.json()['ticket']}") as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: across"


async def fault_scenario(
    servers: list[LiveServer], channels: list[str], fault: Any, recovered: Any
) -> dict[str, list[str]]:
    """Subscribers on both processes (one with presence on a chat room), events published
    before, during and after ``fault()``; what each was told was placed."""
    clients = [RealtimeClient([server.ws_url]) for server in servers]
    for number, client in enumerate(clients):
        await client.start()
        for channel in channels:
            member = str(number + 1) if channel.startswith("chat:") else None
            assert (await client.subscribe(channel, member=member))["type"] == "subscribed"
    publisher = Publisher(servers)

    async def talk(channel: str, start: int, count: int) -> None:
        for number in range(start, start + count):
            await publisher.publish(channel, f"{channel}.{number}")
            await asyncio.sleep(0.02)

    await asyncio.gather(*(talk(channel, 0, 10) for channel in channels))
    talking = asyncio.gather(*(talk(channel, 10, 40) for channel in channels))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(fault)
    await talking
    await asyncio.to_thread(recovered)
    await asyncio.gather(*(talk(channel, 50, 5) for channel in channels))
    for client in clients:
        for channel in channels:
            last = f"{channel}.54"

            def arrived(client: RealtimeClient = client, channel: str = channel) -> bool:
                return f"{channel}.54" in client.texts(channel)

            await wait_until_async(arrived, 20, last)
    await asyncio.sleep(0.5)  # a repeat would have come by now
    for client in clients:
        for channel in channels:
            check_delivery(client, channel, publisher.acknowledged[channel])
    chat = next((channel for channel in channels if channel.startswith("chat:")), None)
    if chat is not None:
        for client in clients:

            def whole(client: RealtimeClient = client, channel: str = chat) -> bool:
                lists = client.presences.get(channel) or [{}]
                online = set(lists[-1].get("online", []))
                return bool(lists[-1].get("complete")) and online == {"1", "2"}

            await wait_until_async(whole, 20, "presence whole again with both members")
    for client in clients:
        await client.stop()
    return publisher.acknowledged


@pytest.mark.timeout(240)
async def test_a_sentinel_failover_loses_nothing_acknowledged(
    sentinel_setup: RedisSentinelSetup, two_processes: list[LiveServer]
) -> None:
    # With APP_REDIS_WAIT_REPLICAS=1 an event is acknowledged only once the replica has it, so
    # the promoted replica holds every acknowledged one: all must arrive, once, in order.
    servers = two_processes
    killed: list[Any] = []

    def fault() -> None:
        killed.append(sentinel_setup.kill_master())
        sentinel_setup.wait_for_failover(timeout=20)

    def recovered() -> None:
        # The old master back, as the new one's replica: WAIT has a replica again.
        sentinel_setup.restart(killed[0])

    acknowledged = await fault_scenario(
        servers, ["announcements", "chat:failover"], fault, recovered
    )
    assert all(len(texts) == 55 for texts in acknowledged.values())
    for server in servers:
        broker = health(server)
        assert broker["connected"] is True
        assert broker["topology"].startswith("sentinel ")
        assert broker["reconnects"] >= 1
        assert broker["last_outage"]
    ticket_works_across(servers[0], servers[1])


@pytest.mark.timeout(240)
async def test_a_cluster_shard_losing_its_master_loses_nothing_without_saying_so(
    cluster_setup: RedisClusterSetup, two_processes: list[LiveServer]
) -> None:
    # Rooms spread over the shards; one shard's master is killed and its replica promoted.
    # Replication is asynchronous here (no WAIT): an acknowledged event may be lost with the
    # master, and then the subscribers must be told (a new epoch), never shown a repeat.
    servers = two_processes
    channels = ["announcements", "chat:alpha", "chat:beta", "chat:gamma"]
    slots = {cluster_setup.slot_of(f"ch:{{{channel}}}:log") for channel in channels}
    assert len(slots) == len(channels)  # on their own slots
    victim = "ch:{chat:alpha}:log"

    def fault() -> None:
        cluster_setup.kill_master_of(victim)
        cluster_setup.wait_for_failover(victim)

    acknowledged = await fault_scenario(servers, channels, fault, lambda: None)
    assert all(len(texts) == 55 for texts in acknowledged.values())
    for server in servers:
        broker = health(server)
        assert broker["connected"] is True
        assert broker["topology"].startswith("cluster ")
    ticket_works_across(servers[0], servers[1])
