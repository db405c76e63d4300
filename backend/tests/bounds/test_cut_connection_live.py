"""A member that takes nothing is closed with 1013, and "if it does not even take the close
frame within a second, its connection is cut, so that its buffers are freed"
(docs/protocol.md). Freed means the kernel's too: a connection cut with megabytes of frames
still unsent must not stay in FIN-WAIT-1 holding them (the issue asks for a reset, SO_LINGER
0). Read from /proc/net/tcp: the state and unsent bytes (tx_queue) of the server's side.

Found failing at 02b88d4: each of the three cut connections stays in FIN-WAIT-1 holding
~2.8 MB unsent (as ``ss`` shows too), for as long as the kernel probes a zero window; nothing
in backend/app sets SO_LINGER, and ``transport.abort()`` (then server/protocols.py ``abort``,
called from chat/hub.py ``_close_slow``) only closed the socket, which the kernel takes as an
orderly close with data still to send. So one anonymous client holds some 2.8 MB of kernel
memory per connection it opens, well after the server has "cut" it. Today the cut is
``ChannelHub.drop_slow``, and ``GuardedWebSocketProtocol.abort`` (server/websocket_protocol.py)
sets SO_LINGER 0 before it closes: the client gets a reset, no close frame.
"""

import asyncio
import contextlib
import socket
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from testkit.waiting import wait_until_async
from tests.bounds.members import FAST_FILLED_ROOMS, JsonMember, never_reading, say_and_hear
from tests.servers import LiveServer, ProcessServers

ROOM = "stuck"
HISTORY = 600
TEXT = 16_000
STUCK = [10, 11, 12]
FIN_WAIT_1 = 0x04  # include/net/tcp_states.h
# What the kernel may still hold for a cut connection: nothing much.
LEFT_UNSENT_BOUND = 64 * 1024


@pytest.fixture
def server(process_servers: ProcessServers) -> LiveServer:
    return process_servers.start(**FAST_FILLED_ROOMS)


def server_side(port: int) -> list[tuple[int, int]]:
    """(state, unsent bytes) of each TCP socket whose local port is the server's."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], int(fields[3], 16), fields[4]
        if int(local.split(":")[1], 16) == port:
            found.append((state, int(queues.split(":")[0], 16)))
    return found


async def test_a_cut_connection_leaves_no_unsent_megabytes_in_the_kernel(
    server: LiveServer,
) -> None:
    watcher = await JsonMember.join(f"{server.ws_url}/ws/1?room={ROOM}")
    epoch = (await watcher.sync())["epoch"]
    async with connect(f"{server.ws_url}/ws/2?room={ROOM}", max_size=None) as talker:
        for number in range(HISTORY):
            await say_and_hear(talker, number, TEXT)
    stuck: list[socket.socket] = [
        never_reading(server.port, f"/ws/{n}?room={ROOM}&since={epoch}:0", "realtime.json.v1")
        for n in STUCK
    ]
    closing_at: float | None = None

    def closing() -> bool:
        nonlocal closing_at
        if closing_at is None and all(
            f"/ws/{n}: a subscriber of 'chat:{ROOM}' did not keep up" in server.log() for n in STUCK
        ):
            closing_at = time.monotonic()
        return closing_at is not None

    await wait_until_async(closing, 15, "all three closed with 1013")
    await wait_until_async(
        lambda: server.log().count("took no close frame: connection aborted") == 3, 5, "cut"
    )
    cut_after = time.monotonic() - (closing_at or 0)
    await asyncio.sleep(2.0)  # a reset is at once; give an orderly close time to end too
    held = [(state, unsent) for state, unsent in server_side(server.port) if unsent]
    for sock in stuck:
        with contextlib.suppress(OSError):
            sock.close()
    await watcher.close()
    assert cut_after < 2.5, f"cut {cut_after:.1f} s after the close"
    lingering = [unsent for state, unsent in held if state == FIN_WAIT_1]
    assert not lingering, f"cut connections still hold {lingering} bytes unsent (FIN-WAIT-1)"
    assert all(unsent <= LEFT_UNSENT_BOUND for _, unsent in held), held
