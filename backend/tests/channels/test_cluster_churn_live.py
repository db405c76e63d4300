"""A Redis Cluster under the churn of ordinary use, two ``python -m app`` processes on three
shards: every member of a process leaving and new ones coming (redis-py closes a shard's
sharded pub/sub connection with its last channel, and opens one again), and hundreds joining
at once. Neither is an outage: nothing is lost, the broker stays connected, and
``/api/health`` counts no reconnect.

Found failing (the crowd) before CLUSTER_CONNECTIONS_PER_NODE: redis-py's cluster client
fails a command at once (MaxConnectionsError) past 100 connections to one node, which the
broker took for a lost Redis; with 100 again, this test counts one reconnect.
"""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.security.tokens import issue_token
from testkit.redis_topologies import RedisClusterSetup
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import RealtimeClient
from tests.servers import LiveServer
from tests.testkit.topologies import made_or_skipped, running

SECRET = "cluster-churn-tests-secret-of-32-chars!"
PUBLISHER = {
    "Authorization": f"Bearer {issue_token(SECRET, 'svc', 600, roles=('publisher',)).token}"
}
OPERATOR = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', 600, roles=('operator',)).token}"}
JSON_V1 = Subprotocol("realtime.json.v1")
ROOMS = ["chat:alpha", "chat:beta", "chat:gamma"]  # on three slots, one per shard here


@pytest.fixture
def cluster_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisClusterSetup]:
    folder = tmp_path / "cluster"
    yield from running(made_or_skipped(lambda: RedisClusterSetup(folder, replicas=0)), request)


@pytest.fixture
def two_processes_settings(cluster_setup: RedisClusterSetup) -> dict[str, str]:
    seeds = ",".join(f"{host}:{port}" for host, port in cluster_setup.seeds)
    return {
        "APP_REDIS_CLUSTER": seeds,
        "APP_TOKEN_SECRET": SECRET,
        "APP_LOG_LEVEL": "info",
        # The burst below comes from one address, as a crowd behind one NAT would.
        "APP_NEW_CHANNELS_PER_SECOND": "1000",
    }


def publish(server: LiveServer, channel: str, text: str) -> None:
    response = httpx2.post(
        f"{server.http_url}/api/channels/{channel}/events",
        json={"data": {"text": text}},
        headers={**PUBLISHER, "Idempotency-Key": text},
        timeout=5,
    )
    assert response.status_code == 201, response.text


def broker_health(server: LiveServer) -> dict[str, object]:
    """As an operator sees it: with the last outage, had there been one."""
    answer = httpx2.get(f"{server.http_url}/api/health", headers=OPERATOR, timeout=5)
    broker: dict[str, object] = answer.json()["chat_broker"]
    return broker


async def hears(server: LiveServer, publisher: LiveServer, label: str) -> None:
    """A new member on ``server`` of every room hears what ``publisher`` places in each."""
    client = RealtimeClient([server.ws_url])
    await client.start()
    try:
        for room in ROOMS:
            assert (await client.subscribe(room, member="7"))["type"] == "subscribed"
        for room in ROOMS:
            await asyncio.to_thread(publish, publisher, room, f"{label}-{room}")
        for room in ROOMS:

            def arrived(room: str = room) -> bool:
                return f"{label}-{room}" in client.texts(room)

            await wait_until_async(arrived, 10, f"{label} on {room}")
    finally:
        await client.stop()


@pytest.mark.timeout(180)
async def test_a_process_whose_members_all_left_hears_its_new_ones(
    two_processes: list[LiveServer],
) -> None:
    first, second = two_processes
    await hears(first, second, "before")
    await asyncio.sleep(1.0)  # every room left on the first: each shard's confirmation read
    await hears(first, second, "after")
    await hears(first, second, "again")
    for server in two_processes:
        assert broker_health(server)["reconnects"] == 0


async def joined(server: LiveServer, room: str, member: int) -> ClientConnection:
    websocket = await connect(
        f"{server.ws_url}/ws/realtime", subprotocols=[JSON_V1], open_timeout=20
    )
    subscribe = {"type": "subscribe", "id": "s", "channel": room, "member": str(member)}
    await websocket.send(json.dumps(subscribe))
    async with asyncio.timeout(30):
        async for frame in websocket:
            message = json.loads(frame)
            assert message["type"] != "error", message
            if message["type"] == "sync":
                return websocket
    raise AssertionError(f"member {member} of {room} got no sync")


@pytest.mark.timeout(180)
async def test_hundreds_joining_at_once_are_no_outage(two_processes: list[LiveServer]) -> None:
    first, second = two_processes
    members = [
        joined(two_processes[number % 2], ROOMS[number % 3], number) for number in range(300)
    ]
    sockets = await asyncio.gather(*members)
    try:
        for server in two_processes:
            broker = broker_health(server)
            assert broker["connected"] is True
            assert broker["reconnects"] == 0, broker
            assert broker.get("last_outage") is None, broker
        await hears(first, second, "after-the-crowd")
    finally:
        await asyncio.gather(*(websocket.close() for websocket in sockets))
