"""While Redis is away the process also keeps the joins it could not place; app/channels/held.py
says they are kept past APP_CHAT_HELD_BYTES because there is "one per connection, which the
connection cap bounds". The cap bounds connections open at once, not connections made: a
guide client that connects and leaves in a loop during an outage adds a kept join each time.
Here, with at most 50 connections open (APP_MAX_CONNECTIONS) and 64 KiB of held bytes (room
for some 130 drafts), 1,000 anonymous connect-and-leave cycles during an outage must leave
at most the cap's and the bound's worth of joins to place once Redis returns.

Found failing at 02b88d4 (the bounds' commit): every one of the 1,000 joins is kept and
placed after the outage (and its departure with it), so the held store grows with the number
of connections made during an outage, without bound (measured on python -m app: 2,000 cycles
in 2.2 s, +4 MiB RSS). 867e375 did the same.
"""

import asyncio

import pytest
import redis
from websockets.asyncio.client import connect

from testkit.processes import RedisServer
from testkit.waiting import wait_until, wait_until_async
from tests.servers import InProcessServer, ThreadServers, broker_connected

ROOM = "revolving-door"
HELD_BYTES = 64 * 1024  # APP_CHAT_HELD_BYTES (its least)
DRAFT_OVERHEAD = 500  # what app/channels/held.py counts for a join
MAX_CONNECTIONS = 50
CYCLES = 1000


@pytest.fixture
def server(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(
        broker=True,
        redis_url=redis_server.url,
        chat_held_bytes=HELD_BYTES,
        max_connections=MAX_CONNECTIONS,
        room_history_events=10 * CYCLES,  # the log keeps every event placed: they are counted
    )


async def test_joins_kept_during_an_outage_are_bounded(
    server: InProcessServer, redis_server: RedisServer
) -> None:
    async def revolving_door(first: int, count: int) -> None:
        for client_id in range(first, first + count):
            async with connect(f"{server.ws_url}/ws/{client_id}?room={ROOM}"):
                pass

    redis_server.stop()
    wait_until(lambda: not broker_connected(server), 10, "Redis gone")
    await asyncio.gather(*(revolving_door(n * CYCLES, CYCLES // 4) for n in range(4)))
    redis_server.start()
    wait_until(lambda: broker_connected(server), 15, "Redis back")
    store = redis.Redis.from_url(redis_server.url)
    meta = f"ch:{{chat:{ROOM}}}:meta"
    # What waited is placed once the broker is back: let it settle.
    placed = -1

    def settled() -> bool:
        nonlocal placed
        placed, before = int(store.hget(meta, "offset") or 0), placed
        return placed == before

    await wait_until_async(settled, 30, "the placed offset settled", every=1.0)
    events: list[tuple[bytes, dict[bytes, bytes]]] = store.xrange(f"ch:{{chat:{ROOM}}}:log")  # type: ignore[assignment]
    assert len(events) == placed  # all of them
    joins = sum(b'"kind":"joined"' in fields[b"e"] for _, fields in events)
    store.close()
    bound = MAX_CONNECTIONS + HELD_BYTES // DRAFT_OVERHEAD
    assert joins <= bound, (
        f"{joins} joins kept through the outage and placed (of {placed} events), "
        f"beyond the {bound} the cap and the bound allow"
    )
