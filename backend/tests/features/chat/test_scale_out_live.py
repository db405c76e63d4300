"""The guide's chat over real sockets: one process in memory, two processes through Redis."""

import httpx2
import pytest
from websockets.sync.client import ClientConnection, connect

from testkit.processes import RedisServer
from testkit.waiting import wait_until
from tests.servers import LiveServer, broker_connected

METRICS_TOKEN = "scale-out-operator-token-not-a-secret"


@pytest.fixture
def two_processes_settings(redis_server: RedisServer) -> dict[str, str]:
    """One Redis, and an operator's token to read what /api/health keeps from everyone."""
    return {"APP_REDIS_URL": redis_server.url, "APP_METRICS_TOKEN": METRICS_TOKEN}


def guide_chat_holds(alice: ClientConnection, bob: ClientConnection) -> None:
    """The guide's cases for the chat: sender, broadcast, leave (Alice is #1, Bob #2)."""
    alice.send("Hello")
    assert alice.recv(timeout=5) == "You wrote: Hello"
    assert alice.recv(timeout=5) == "Client #1 says: Hello"
    assert bob.recv(timeout=5) == "Client #1 says: Hello"
    bob.send("Hi Alice")
    assert bob.recv(timeout=5) == "You wrote: Hi Alice"
    assert bob.recv(timeout=5) == "Client #2 says: Hi Alice"
    assert alice.recv(timeout=5) == "Client #2 says: Hi Alice"
    alice.close()
    assert bob.recv(timeout=5) == "Client #1 left the chat"


def test_guide_chat_in_one_process_over_real_sockets(live_server: LiveServer) -> None:
    with (
        connect(f"{live_server.ws_url}/ws/1?room=one-process") as alice,
        connect(f"{live_server.ws_url}/ws/2?room=one-process") as bob,
    ):
        guide_chat_holds(alice, bob)


def test_guide_chat_across_two_processes_through_redis(two_processes: list[LiveServer]) -> None:
    first, second = two_processes
    with (
        connect(f"{first.ws_url}/ws/1") as alice,
        connect(f"{second.ws_url}/ws/2") as bob,
    ):
        guide_chat_holds(alice, bob)
    for server in two_processes:
        assert "Traceback" not in server.log()


def test_guide_chat_resumes_by_itself_after_redis_restarts(
    two_processes: list[LiveServer], redis_server: RedisServer
) -> None:
    first, second = two_processes
    with (
        connect(f"{first.ws_url}/ws/1") as alice,
        connect(f"{first.ws_url}/ws/3") as carol,  # on Alice's process
        connect(f"{second.ws_url}/ws/2") as bob,
    ):
        bob.send("ready")  # the room spans both processes
        assert bob.recv(timeout=5) == "You wrote: ready"
        for websocket in (alice, carol, bob):
            assert websocket.recv(timeout=5) == "Client #2 says: ready"
        redis_server.stop()
        wait_until(
            lambda: not broker_connected(first) and not broker_connected(second), 15, "Redis gone"
        )
        health = httpx2.get(f"{first.http_url}/api/health").json()
        assert health["status"] == "degraded"
        broker = health["chat_broker"]
        assert (broker["kind"], broker["connected"], broker["topology"]) == (
            "redis",
            False,
            "single",
        )
        assert "last_outage" not in broker  # its text names the Redis: an operator's to read
        operator = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        broker = httpx2.get(f"{first.http_url}/api/health", headers=operator).json()["chat_broker"]
        assert "Connection" in broker["last_outage"] or "connect" in broker["last_outage"]

        # Still serving: the guide's own echo at once, and the other endpoints.
        alice.send("Redis is down")
        assert alice.recv(timeout=5) == "You wrote: Redis is down"
        with connect(f"{second.ws_url}/ws") as echo:
            echo.send("still here")
            assert echo.recv(timeout=5) == "Message text was: still here"

        redis_server.start()
        # What Alice said while the room was away is placed once it is back: everyone hears it.
        for websocket in (alice, carol, bob):
            assert websocket.recv(timeout=15) == "Client #1 says: Redis is down"
        bob.send("Redis is back")
        assert bob.recv(timeout=5) == "You wrote: Redis is back"
        assert bob.recv(timeout=5) == "Client #2 says: Redis is back"
        assert alice.recv(timeout=5) == "Client #2 says: Redis is back"
        assert carol.recv(timeout=5) == "Client #2 says: Redis is back"
    for server in two_processes:
        assert "lost Redis" in server.log()
        assert "Traceback" not in server.log()
