"""A room's history is bounded in bytes, per room and for all rooms of a process together:
big messages into several rooms, from anonymous guide clients, over real sockets to
``python -m app``, with its resident memory and Redis's own accounting measured.

Without the byte bound (867e375: 1,000 events per room, however big), each room here would
keep every one of its 105 events (some 6 MB a room, 48 MB in all): a newcomer would be given
all of them, the process would grow by some 50 MB, the Redis stream would hold 6 MB a room,
and a member resuming from before the flood would get ``recovered: true``.
"""

import asyncio
from typing import Any

import pytest
import redis
from websockets.asyncio.client import connect

from testkit.processes import RedisServer, rss_kib
from tests.bounds.members import MIB, JsonMember, position_of
from tests.servers import LiveServer, ProcessServers

ROOMS = [f"big-{n}" for n in range(8)]
MESSAGES = 100  # per room, each of TEXT characters
TEXT = 60_000  # under the 64 KiB a message may have
ROOM_BYTES = 256 * 1024  # APP_ROOM_HISTORY_BYTES
TOTAL_BYTES = 1024 * 1024  # APP_HISTORY_TOTAL_BYTES: 4 rooms' worth, of the 8 flooded
EVENT_OVERHEAD = 700  # what the in-memory history counts per event beyond its text
# Resident memory the flood may add to a process that keeps at most TOTAL_BYTES of history:
# what the allocator keeps of 48 MB of messages passing through (measured: 2-6 MiB).
RSS_GROWTH_BOUND_KIB = 20 * 1024
SETTINGS: dict[str, Any] = {  # APP_ settings, for ProcessServers.start
    "APP_LOG_LEVEL": "warning",
    "APP_ROOM_HISTORY_BYTES": str(ROOM_BYTES),
    "APP_HISTORY_TOTAL_BYTES": str(TOTAL_BYTES),
    # A newcomer is given all the room holds: what it is given is what the room keeps.
    "APP_ROOM_HISTORY_ON_JOIN": "1000",
    "APP_WS_MESSAGES_PER_SECOND": "100000",
    "APP_WS_MESSAGE_BURST": "100000",
}


@pytest.fixture
def in_memory(process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(clean_log=True, **SETTINGS)


@pytest.fixture
def with_redis(redis_server: RedisServer, process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(clean_log=True, APP_REDIS_URL=redis_server.url, **SETTINGS)


async def flood(server: LiveServer, room: str, client_id: int, first: int, count: int) -> int:
    """A guide client says ``count`` big messages in the room; how many it heard broadcast."""
    heard = 0
    url = f"{server.ws_url}/ws/{client_id}?room={room}"
    async with connect(url, max_size=None) as websocket:
        for number in range(first, first + count):
            tag = f"{room}/{number} "
            await websocket.send(tag + "x" * (TEXT - len(tag)))
            while True:
                line = str(await asyncio.wait_for(websocket.recv(), 20))
                if line.startswith(f"Client #{client_id} says: {tag}"):
                    heard += 1
                    break
    return heard


async def flood_every_room(server: LiveServer, first: int, count: int) -> None:
    heard = await asyncio.gather(
        *(flood(server, room, 100 + n, first, count) for n, room in enumerate(ROOMS))
    )
    assert heard == [count] * len(ROOMS)  # every message said was broadcast


async def what_a_newcomer_is_given(server: LiveServer, room: str) -> list[dict[str, object]]:
    newcomer = await JsonMember.join(f"{server.ws_url}/ws/900?room={room}")
    sync = await newcomer.sync(20)
    history = newcomer.messages[1 : newcomer.messages.index(sync)]
    await newcomer.close()
    return history


async def test_in_memory_history_stays_within_its_bytes_per_room_and_in_all(
    in_memory: LiveServer,
) -> None:
    # A member that will come back with its position from before the flood.
    away = await JsonMember.join(f"{in_memory.ws_url}/ws/1?room={ROOMS[0]}")
    before = position_of(await away.sync())
    await away.close()
    # A member that stays, and reads: it must get every message, live.
    watcher = await JsonMember.join(f"{in_memory.ws_url}/ws/2?room={ROOMS[0]}")
    await watcher.sync()

    await flood_every_room(in_memory, 0, 5)  # warms up the allocator
    baseline = rss_kib(in_memory.process.pid)
    await flood_every_room(in_memory, 5, MESSAGES - 5)
    grown = rss_kib(in_memory.process.pid) - baseline

    await watcher.wait_for(lambda m: m.get("text", "").startswith(f"{ROOMS[0]}/99 "), 20)
    assert len(watcher.texts()) == MESSAGES  # nothing said was lost to the live members
    assert grown < RSS_GROWTH_BOUND_KIB, f"the server grew by {grown} KiB"

    kept = {room: await what_a_newcomer_is_given(in_memory, room) for room in ROOMS}
    counted = {
        room: sum(EVENT_OVERHEAD + len(str(event.get("text", ""))) for event in events)
        for room, events in kept.items()
    }
    for room, size in counted.items():
        assert size <= ROOM_BYTES, f"{room} keeps {size} bytes"
        assert kept[room], f"{room} keeps nothing"  # a bound, not a wipe
    # All rooms together: each newcomer's own arrival may trim another room meanwhile.
    assert sum(counted.values()) <= TOTAL_BYTES + len(ROOMS) * EVENT_OVERHEAD
    assert sum(counted.values()) > TOTAL_BYTES // 2  # and the budget is used

    back = await JsonMember.join(f"{in_memory.ws_url}/ws/1?room={ROOMS[0]}&since={before}")
    sync = await back.sync()
    assert (sync["recovered"], sync["reason"]) == (False, "too_far_behind")
    await back.close()
    # The server still serves others.
    other = await JsonMember.join(f"{in_memory.ws_url}/ws/3?room=elsewhere")
    await other.sync()
    assert (await other.say("hi", "still here"))["type"] == "ack"
    await other.close()
    await watcher.close()


async def test_redis_streams_stay_within_their_bytes_per_room_and_in_all(
    with_redis: LiveServer, redis_server: RedisServer
) -> None:
    store = redis.Redis.from_url(redis_server.url)

    try:
        away = await JsonMember.join(f"{with_redis.ws_url}/ws/1?room={ROOMS[0]}")
        before = position_of(await away.sync())
        await away.close()
        watcher = await JsonMember.join(f"{with_redis.ws_url}/ws/2?room={ROOMS[0]}")
        await watcher.sync()
        used_before = int(store.info("memory")["used_memory"])

        await flood_every_room(with_redis, 0, MESSAGES)

        await watcher.wait_for(lambda m: m.get("text", "").startswith(f"{ROOMS[0]}/99 "), 20)
        assert len(watcher.texts()) == MESSAGES
        held = {room: int(store.hget(f"ch:{{chat:{room}}}:meta", "bytes") or 0) for room in ROOMS}
        # All rooms together, within the process's budget (an append racing another's trim
        # may leave one event over), and the budget is used: a bound, not a wipe.
        assert TOTAL_BYTES // 2 < sum(held.values()) <= TOTAL_BYTES + 2 * (TEXT + 1000), held
        for room in ROOMS:
            log, meta = f"ch:{{chat:{room}}}:log", f"ch:{{chat:{room}}}:meta"
            length = int(store.xlen(log))
            usage = int(store.memory_usage(log, samples=0) or 0)
            counted = int(store.hget(meta, "bytes") or 0)
            # The stream's own bytes: its events' JSON, within the bound, and what Redis
            # spends on them beyond (the stream's nodes) is small.
            assert counted <= ROOM_BYTES, (room, counted)
            assert 1 <= length <= ROOM_BYTES // TEXT + 1, (room, length)
            assert usage <= ROOM_BYTES + 64 * 1024, (room, usage)
            kept = await what_a_newcomer_is_given(with_redis, room)
            assert sum(len(str(event.get("text", ""))) for event in kept) <= ROOM_BYTES
        # Redis as a whole: within the 1 MiB budget (8 rooms x 6 MB without the bounds).
        grown = int(store.info("memory")["used_memory"]) - used_before
        assert grown < 2 * TOTAL_BYTES + 4 * MIB, f"Redis grew by {grown} bytes"

        back = await JsonMember.join(f"{with_redis.ws_url}/ws/1?room={ROOMS[0]}&since={before}")
        sync = await back.sync()
        assert (sync["recovered"], sync["reason"]) == (False, "too_far_behind")
        await back.close()
        await watcher.close()
    finally:
        store.close()
