"""A joiner that asks for the whole history and never reads holds at most its outbox's bytes
(APP_CHAT_OUTBOX_BYTES) on the server, and is dropped within seconds (1013, then cut), while
everyone else keeps getting everything: measured on ``python -m app``'s resident memory.

Without the byte bound (867e375: 256 frames, however big) each such joiner held 256 frames
of 16 KB and more until it was dropped: the four here add well over the bound.
"""

import asyncio
import contextlib
import socket
import threading
import time

import pytest
from websockets.asyncio.client import connect

from testkit.processes import rss_kib
from testkit.waiting import wait_until_async
from tests.bounds.members import FAST_FILLED_ROOMS, JsonMember, never_reading, say_and_hear
from tests.servers import LiveServer, ProcessServers

ROOM = "hungry"
HISTORY = 900  # messages in the room's history (under its 1,000 events)
TEXT = 16_000
OUTBOX_BYTES = 256 * 1024  # APP_CHAT_OUTBOX_BYTES
HUNGRY = [500, 501, 502, 503]
# What the four may add to the process, at most: four outboxes (1 MiB), what their
# transports hold beyond them, and the allocator's slack.
RSS_GROWTH_BOUND_KIB = 8 * 1024
# From joining to being dropped: the 5 s a member may take nothing, then the close.
DROPPED_WITHIN = 10.0


@pytest.fixture
def server(process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(APP_CHAT_OUTBOX_BYTES=str(OUTBOX_BYTES), **FAST_FILLED_ROOMS)


async def test_a_joiner_that_never_reads_holds_a_bounded_amount_and_is_dropped(
    server: LiveServer,
) -> None:
    watcher = await JsonMember.join(f"{server.ws_url}/ws/1?room={ROOM}")
    epoch = (await watcher.sync())["epoch"]
    talker = await connect(f"{server.ws_url}/ws/2?room={ROOM}", max_size=None)

    for number in range(HISTORY):
        await say_and_hear(talker, number, TEXT)
    await wait_until_async(lambda: len(watcher.texts()) == HISTORY, 20, "the history is said")
    baseline = rss_kib(server.process.pid)

    peak = baseline
    sampling = True

    def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss_kib(server.process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    joined_at = time.monotonic()
    # Each asks for everything since the epoch began, and reads none of it.
    hungry: list[socket.socket] = [
        never_reading(server.port, f"/ws/{n}?room={ROOM}&since={epoch}:0", "realtime.json.v1")
        for n in HUNGRY
    ]
    # Meanwhile the room goes on: the others must get all of it.
    number = HISTORY
    while not all(
        f"/ws/{n}: a subscriber of 'chat:{ROOM}' did not keep up" in server.log() for n in HUNGRY
    ):
        assert time.monotonic() - joined_at < DROPPED_WITHIN, "not dropped in time"
        await say_and_hear(talker, number, TEXT)
        number += 1
        await asyncio.sleep(0.02)
    dropped_after = time.monotonic() - joined_at
    await asyncio.sleep(1.5)  # the grace for the close frame, then the cut
    sampling = False
    sampler.join()
    for sock in hungry:
        with contextlib.suppress(OSError):
            sock.close()

    grown = peak - baseline
    assert grown < RSS_GROWTH_BOUND_KIB, f"the server grew by {grown} KiB"
    assert dropped_after < DROPPED_WITHIN
    assert "closing with 1013" in server.log()
    # The watcher got every message, in order, while they hung.
    await wait_until_async(lambda: len(watcher.texts()) == number, 10, "the watcher has all")
    assert [int(t.split(" ", 1)[0]) for t in watcher.texts()] == list(range(number))
    # And the server still serves a newcomer.
    newcomer = await JsonMember.join(f"{server.ws_url}/ws/3?room={ROOM}")
    await newcomer.sync()
    assert (await newcomer.say("n1", "hello"))["type"] == "ack"
    await newcomer.close()
    await watcher.close()
    await talker.close()
