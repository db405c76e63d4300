"""While a JSON member catches up from the history, the room's live events wait in its backlog
(app/channels/subscribers.py), which is meant to be bounded like its outbox: "a member ... who keeps
too much waiting while it catches up, is dropped". The backlog counts only the events' text,
so events without text (a guide's empty message; every join and departure) cost it nothing:
a member that reads slowly enough to stay connected (a frame every few seconds is enough)
while another client fills the room with empty messages holds every one of them.

Here, against ``python -m app``: a history of 4 MB to catch up on, a member that reads it at
600 KB/s, and eight guide clients saying empty messages for 12 s (some 600 a second). What
waits for that member must stay within its outbox's bounds (APP_CHAT_OUTBOX_LIMIT frames,
APP_CHAT_OUTBOX_BYTES): it is dropped, or the process's RSS stays within a few MiB.

Found failing at 02b88d4 (the bounds' commit): the member is never dropped, its backlog takes
all of the ~8,500 empty messages (an in-process probe counted ~19,000 waiting after 30 s)
and python -m app grows by 6-10 MiB in 12 s (7 runs, the rate depending on the machine's
load). The growth is the
attacker's event rate (100 a second per connection, up to the connection cap) times the time
the catch-up lasts, which the reader sets; once events come faster than it reads, the drain
after ``sync`` (then ``ChatHub._catch_up``) never ends either. The cause, in the code of
that commit: ``Member.take`` added ``len(event.text)`` to ``backlog_bytes`` and checked
nothing else. Today ``Subscription.take`` (app/channels/subscribers.py) counts each event's
payload and its own objects (``EVENT_OVERHEAD_BYTES``), however small the payload.

A regression: at 867e375 this test passes (the member is dropped), since the backlog was
bounded by count there (APP_CHAT_OUTBOX_LIMIT plus the history's events, ``backlog_limit``
in that commit's chat/hub.py); 02b88d4 replaced that count with the bound on text bytes alone.
"""

import asyncio
import contextlib
import threading
import time

import pytest
from websockets.asyncio.client import connect

from testkit.processes import rss_kib
from tests.bounds.members import FAST_FILLED_ROOMS, JsonMember, never_reading, say_and_hear
from tests.servers import LiveServer, ProcessServers

ROOM = "backlog"
HISTORY = 900  # messages of TEXT characters to catch up on (some 15 MB)
TEXT = 16_000
READ_RATE = 600_000  # bytes per second: the 15 MB history takes the slow member 25 s
FLOODERS = 8
FLOOD_SECONDS = 12.0
# What may wait for one member: its outbox's bytes (1 MiB by default), what its transport
# holds, and the allocator's slack (the same flood with a member that reads at full speed
# grows the process by ~0.3 MiB).
RSS_GROWTH_BOUND_KIB = 3 * 1024


@pytest.fixture
def server(process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(**FAST_FILLED_ROOMS)


async def test_what_waits_for_a_member_catching_up_is_bounded(server: LiveServer) -> None:
    watcher = await JsonMember.join(f"{server.ws_url}/ws/1?room={ROOM}")
    epoch = (await watcher.sync())["epoch"]
    async with connect(f"{server.ws_url}/ws/2?room={ROOM}", max_size=None) as talker:
        for number in range(HISTORY):
            await say_and_hear(talker, number, TEXT)

    slow = never_reading(
        server.port, f"/ws/3?room={ROOM}&since={epoch}:0", "realtime.json.v1", 65536
    )
    reading = True

    def read_slowly() -> None:
        """At most READ_RATE: enough never to stall for seconds (kernel buffers wake a
        writer only once a good part of them is free), too slow to catch up soon."""
        started, taken = time.monotonic(), 0
        while reading:
            try:
                chunk = slow.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            taken += len(chunk)
            time.sleep(max(0.0, started + taken / READ_RATE - time.monotonic()))

    reader = threading.Thread(target=read_slowly)
    reader.start()
    await asyncio.sleep(0.5)
    baseline = rss_kib(server.process.pid)
    peak = baseline

    async def flood(client_id: int) -> None:
        async with connect(f"{server.ws_url}/ws/{client_id}?room={ROOM}") as websocket:
            draining = asyncio.create_task(drain(websocket))
            until = time.monotonic() + FLOOD_SECONDS
            while time.monotonic() < until:
                await websocket.send("")  # an event with no text at all
                await asyncio.sleep(0.01)
            draining.cancel()

    async def drain(websocket: object) -> None:
        async for _ in websocket:  # type: ignore[attr-defined]
            pass

    async def sample() -> None:
        nonlocal peak
        until = time.monotonic() + FLOOD_SECONDS
        while time.monotonic() < until:
            peak = max(peak, rss_kib(server.process.pid))
            await asyncio.sleep(0.1)

    await asyncio.gather(sample(), *(flood(100 + n) for n in range(FLOODERS)))
    dropped = "/ws/3: a subscriber of 'chat:backlog' did not keep up" in server.log()
    reading = False
    reader.join()
    with contextlib.suppress(OSError):
        slow.close()
    said = len(watcher.texts())
    await watcher.close()
    grown = peak - baseline
    assert dropped or grown < RSS_GROWTH_BOUND_KIB, (
        f"a member catching up held the room's {said - HISTORY} empty messages: not "
        f"dropped, and the server grew by {grown} KiB"
    )
