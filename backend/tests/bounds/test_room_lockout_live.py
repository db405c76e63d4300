"""One client cannot lock everyone out of new rooms: with Redis a room keeps its place in the
process's ledger until its history has aged out (minutes), so a client opening room after room
would otherwise take every place (APP_MAX_ROOMS) and hold it; new rooms are rationed per client
address (APP_NEW_CHANNELS_PER_SECOND), over real sockets to a real Redis.

Without the ration (f210793), the flood below takes all 30 places: the other address's new room
is refused with 1013 "this server keeps as many rooms as it may", for the history's age.
"""

import json

import pytest
from websockets.sync.client import connect

from testkit.processes import RedisServer
from tests.bounds.members import JSON_V1
from tests.raw_client import closed_with
from tests.servers import InProcessServer, ThreadServers

MAX_ROOMS = 30
BURST = 10  # 100 times APP_NEW_CHANNELS_PER_SECOND
OTHER_ADDRESS = {"X-Forwarded-For": "203.0.113.9"}  # as a trusted proxy on loopback reports it


@pytest.fixture
def server(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(
        broker=True,
        redis_url=redis_server.url,
        max_rooms=MAX_ROOMS,
        new_channels_per_second=BURST / 100,
    )


def say_once(server: InProcessServer, room: str, headers: dict[str, str] | None = None) -> None:
    """Joins the room, says one thing (its history now holds it), and leaves."""
    url = f"{server.ws_url}/ws/5?room={room}"
    with connect(url, additional_headers=headers) as websocket:
        websocket.send("mine")
        assert websocket.recv(timeout=5) == "You wrote: mine"


def test_one_address_opening_room_after_room_is_slowed_and_others_still_open_theirs(
    server: InProcessServer,
) -> None:
    for n in range(BURST):
        say_once(server, f"flood-{n}")
    code, reason = closed_with(f"{server.ws_url}/ws/5?room=flood-{BURST}")
    assert code == 1013
    assert reason.startswith("too many new channels from one address: try again in ")
    # A room it opened already is joined as ever: the ration is on new rooms only.
    say_once(server, "flood-0")
    # On WS /ws/realtime the same ration answers the subscribe, and the connection stays.
    with connect(f"{server.ws_url}/ws/realtime", subprotocols=JSON_V1) as websocket:
        websocket.send(
            json.dumps({"type": "subscribe", "id": "s1", "channel": "chat:flood-x", "member": "5"})
        )
        while (answer := json.loads(websocket.recv(timeout=5)))["type"] == "welcome":
            pass
        assert (answer["type"], answer.get("code")) == ("error", "channels_full"), answer
        assert answer["detail"].startswith("too many new channels from one address")
        websocket.send(
            json.dumps({"type": "subscribe", "id": "s2", "channel": "chat:flood-1", "member": "5"})
        )
        while (answer := json.loads(websocket.recv(timeout=5)))["type"] not in ("sync", "error"):
            pass
        assert answer["type"] == "sync", answer
    # Someone else, from another address, still opens a room of their own: places are left.
    say_once(server, "someone-elses", OTHER_ADDRESS)
    assert "Traceback" not in server.log()
