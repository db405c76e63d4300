"""Presence is coalesced: however many join a room, a JSON member gets at most one list per
room every half second, so a room that fills costs each member linear bytes, not quadratic.
320 anonymous guide clients join one room in a second or two, against ``python -m app``.

Without it (867e375: the whole list pushed on every join) the watcher gets one list per join,
320 of them and some 300 KB, and the test fails on both counts.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect

from testkit.waiting import wait_until_async
from tests.bounds.members import JsonMember
from tests.servers import LiveServer, ProcessServers

ROOM = "crowd"
JOINERS = [10_000 + n for n in range(320)]
COALESCE_SECONDS = 0.5
REFRESH_SECONDS = 10 / 3


@pytest.fixture
def server(process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(clean_log=True, APP_LOG_LEVEL="warning")


def list_bytes(online: list[int]) -> int:
    """A presence list's frame, as the server writes it."""
    message = {"type": "presence", "room": ROOM, "online": online, "complete": True}
    return len(json.dumps(message, separators=(",", ":")))


async def test_presence_lists_are_coalesced_when_hundreds_join(server: LiveServer) -> None:
    watcher = await JsonMember.join(f"{server.ws_url}/ws/1?room={ROOM}")
    await watcher.sync()
    await watcher.wait_for(lambda m: m["type"] == "presence")
    first = len(watcher.messages)

    async def join(client_id: int) -> ClientConnection:
        return await connect(f"{server.ws_url}/ws/{client_id}?room={ROOM}")

    # In batches of 20, over some two seconds.
    joiners: list[ClientConnection] = []
    for start in range(0, len(JOINERS), 20):
        batch = JOINERS[start : start + 20]
        joiners += await asyncio.gather(*(join(client_id) for client_id in batch))
        await asyncio.sleep(0.12)
    everyone = sorted([1, *JOINERS])
    await wait_until_async(
        lambda: any(m.get("online") == everyone for m in watcher.messages[first:]),
        15,
        "a list with everyone",
    )
    await asyncio.sleep(4 * COALESCE_SECONDS)  # any list still due
    lists = [
        (watcher.times[at], watcher.sizes[at])
        for at in range(first, len(watcher.messages))
        if watcher.messages[at]["type"] == "presence"
    ]
    span = lists[-1][0] - lists[0][0]
    # One per half second while they joined, one more for the last changes, and those
    # of the presence refresh (every APP_CHAT_PRESENCE_TTL / 3), which may fall between.
    assert len(lists) <= span / COALESCE_SECONDS + span / REFRESH_SECONDS + 3, (
        len(lists),
        span,
    )
    # Bytes: a list per join would have been this many.
    per_join = sum(list_bytes(everyone[: n + 2]) for n in range(len(JOINERS)))
    sent = sum(size for _, size in lists)
    assert sent < per_join / 10, (sent, per_join)
    assert watcher.messages[-1]["type"] != "presence" or watcher.messages[-1]["complete"]
    # Every join is still told, as an event: linear, and in order.
    joined = [m["client_id"] for m in watcher.of("joined")]
    assert sorted(joined[1:]) == JOINERS
    await watcher.close()
    # Dropped at once: closing them one by one, each of the others would read every
    # "left the chat" (51,000 lines in all), which takes this client most of a minute.
    for websocket in joiners:
        websocket.transport.abort()
