"""The rooms one process keeps are bounded (APP_MAX_ROOMS): a join that would open one room
too many is refused with 1013 and a reason; rooms nobody is in make room again (in memory at
once, their history with them; with Redis once their history has aged out), and Redis's keys
for a room expire with its history.

Without the bound (867e375) every join below is accepted: a client picks the room's name,
so one anonymous client could open rooms until memory (or Redis, whose meta keys lived 24 h)
ran out. Both tests fail at their first refusal: the socket is accepted and served, and
``closed_with`` times out waiting for the close.
"""

import json
import time
from typing import Any

import pytest
import redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from testkit.processes import RedisServer
from testkit.waiting import wait_until
from tests.bounds.members import JSON_V1
from tests.raw_client import closed_with
from tests.servers import InProcessServer, ThreadServers

FULL = (1013, "this server keeps as many rooms as it may: try again later")
MAX_ROOMS = 4
HISTORY_SECONDS = 2.0


@pytest.fixture
def server(thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(max_rooms=MAX_ROOMS)


@pytest.fixture
def server_with_redis(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(
        broker=True,
        redis_url=redis_server.url,
        max_rooms=MAX_ROOMS,
        room_history_seconds=HISTORY_SECONDS,
    )


def guide(server: InProcessServer, client_id: int, room: str) -> ClientConnection:
    """A guide client in the room, shown to be served (it hears its own message)."""
    websocket = connect(f"{server.ws_url}/ws/{client_id}?room={room}").__enter__()
    websocket.send("here")
    assert websocket.recv(timeout=5) == "You wrote: here"
    assert websocket.recv(timeout=5) == f"Client #{client_id} says: here"
    return websocket


def json_sync(server: InProcessServer, client_id: int, room: str, since: str = "") -> Any:
    """Joins with realtime.json.v1, and leaves once told where the history it got ends."""
    query = f"&since={since}" if since else ""
    url = f"{server.ws_url}/ws/{client_id}?room={room}{query}"
    with connect(url, subprotocols=JSON_V1) as websocket:
        while (message := json.loads(websocket.recv(timeout=5)))["type"] != "sync":
            pass
        return message


def joined_soon(server: InProcessServer, client_id: int, room: str, seconds: float) -> Any:
    """A guide client in the room, as soon as the server has room for it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return guide(server, client_id, room)
        except InvalidStatus:
            assert time.monotonic() < deadline, f"{room}: no room made within {seconds} s"
            time.sleep(0.1)


def refused_in_every_dialect(server: InProcessServer, room: str) -> None:
    url = f"{server.ws_url}/ws/77?room={room}"
    # realtime.text.v1 (and json.v1): accepted, then closed with the code and the reason.
    assert closed_with(url) == FULL
    # The guide's dialect: refused at the handshake, as HTTP 403.
    with pytest.raises(InvalidStatus) as refused, connect(url):
        pass
    assert refused.value.response.status_code == 403


def test_rooms_beyond_the_bound_are_refused_and_a_left_room_makes_room_at_once(
    server: InProcessServer,
) -> None:
    first = json_sync(server, 1, "room-0")
    held = {n: guide(server, 10 + n, f"room-{n}") for n in range(MAX_ROOMS)}

    refused_in_every_dialect(server, "room-new")
    # A room already kept is joined as ever: the bound is on rooms, not on members.
    beside = guide(server, 30, "room-1")

    held.pop(0).close()  # room-0 now has nobody: in memory, it may be forgotten at once
    newcomer = joined_soon(server, 40, "room-new", 5)  # and room-new takes its place
    refused_in_every_dialect(server, "room-0")  # which is no longer kept

    newcomer.close()  # room-new is empty: room-0 may come back, as a new history
    back = json_sync(server, 1, "room-0", since=f"{first['epoch']}:{first['offset']}")
    assert (back["recovered"], back["reason"]) == (False, "epoch_changed")
    # And the members held all along were served throughout.
    held[2].send("still")
    assert held[2].recv(timeout=5) == "You wrote: still"
    for websocket in [*held.values(), beside]:
        websocket.close()


def test_with_redis_a_left_room_makes_room_once_its_history_has_aged_and_keys_expire(
    server_with_redis: InProcessServer, redis_server: RedisServer
) -> None:
    server = server_with_redis
    store = redis.Redis.from_url(redis_server.url)
    held = {n: guide(server, 10 + n, f"room-{n}") for n in range(MAX_ROOMS)}
    refused_in_every_dialect(server, "room-new")

    held.pop(0).close()
    left_at = time.monotonic()
    time.sleep(0.3)  # its departure placed
    # Its history may still be asked for (a member coming back): not forgotten yet.
    assert closed_with(f"{server.ws_url}/ws/77?room=room-new") == FULL

    # Every key Redis keeps for a room's history expires, the meta key one history age after
    # its log (which lives the history's age and a second): seconds here, never 24 hours.
    ceiling_ms = 2 * (HISTORY_SECONDS + 1) * 1000
    metas = [key.decode() for key in store.scan_iter("ch:*:meta")]
    assert sorted(metas) == sorted(f"ch:{{chat:room-{n}}}:meta" for n in range(MAX_ROOMS))
    for pattern in ("ch:*:meta", "ch:*:log", "ch:*:ids"):
        for key in store.scan_iter(pattern):
            lifetime = int(store.pttl(key))
            assert 0 < lifetime <= ceiling_ms, (key, lifetime)
    # Presence outlives a process that died without a word by its lifetime and a minute.
    for pattern in ("ch:*:presence", "ch:*:counts"):
        for key in store.scan_iter(pattern):
            lifetime = int(store.pttl(key))
            assert 0 < lifetime <= (10 + 60) * 1000, (key, lifetime)

    # Once room-0 has been idle longer than its history's age, a new room takes its place.
    newcomer = joined_soon(server, 40, "room-new", HISTORY_SECONDS + 1 + 3)
    assert time.monotonic() - left_at > HISTORY_SECONDS + 1  # not before it aged out
    # room-0's keys, unused, are gone from Redis within the meta key's lifetime.
    wait_until(
        lambda: not store.exists("ch:{chat:room-0}:meta", "ch:{chat:room-0}:log"),
        ceiling_ms / 1000 + 2,
        "room-0's keys expired",
    )
    held[1].send("still")
    assert held[1].recv(timeout=5) == "You wrote: still"
    for websocket in [*held.values(), newcomer]:
        websocket.close()
    store.close()
