"""Message size, compression and rate over real sockets."""

import asyncio
import contextlib
import struct
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.settings import Settings
from testkit.processes import rss_kib
from tests.raw_client import close_frame, handshake, raw_socket, read_all
from tests.servers import (
    InProcessServer,
    LiveServer,
    ProcessServers,
    ThreadServers,
    serve_in_thread,
)


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start()


@pytest.fixture(scope="module")
def own_process(module_process_servers: ProcessServers) -> LiveServer:
    """A process of its own: its memory is measured, and a flood must not share our GIL."""
    return module_process_servers.start(
        APP_LOG_LEVEL="info", APP_WS_MESSAGES_PER_SECOND="50", APP_WS_MESSAGE_BURST="20"
    )


def test_an_oversized_message_is_refused_on_its_header_alone(server: InProcessServer) -> None:
    with raw_socket(server) as sock:
        handshake(sock)
        # A binary frame that announces 16 MiB; not one byte of its payload is sent.
        sock.sendall(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 16 * 1024 * 1024) + b"mask")
        code, reason = close_frame(read_all(sock))
    assert (code, reason) == (1009, b"frame with 16777216 bytes exceeds limit of 65536 bytes")
    time.sleep(0.2)
    assert "1009 frame with 16777216 bytes exceeds limit of 65536 bytes" in server.log()


def test_oversized_messages_leave_the_servers_memory_unchanged(own_process: LiveServer) -> None:
    before = rss_kib(own_process.process.pid)
    for _ in range(8):  # 8 x 16 MiB: uvicorn's own limit would have buffered every one
        # The server closes while the client is still sending: no clean close to read.
        with (
            connect(f"{own_process.ws_url}/ws", max_size=None) as websocket,
            contextlib.suppress(ConnectionClosed),
        ):
            websocket.send(b"\x00" * (16 * 1024 * 1024))
            websocket.recv(timeout=5)
    grown = rss_kib(own_process.process.pid) - before
    assert grown < 8 * 1024, f"the server grew by {grown} KiB"
    with connect(f"{own_process.ws_url}/ws") as websocket:  # 64 KiB is still fine
        websocket.send(b"\x01" * 65536)
        assert websocket.recv(timeout=5) == b"\x01" * 65536


def test_permessage_deflate_is_off_unless_turned_on(
    server: InProcessServer, tmp_path: Path
) -> None:
    # The websockets client offers permessage-deflate, as every browser does.
    with connect(f"{server.ws_url}/ws") as websocket:
        assert websocket.response is not None
        assert "Sec-WebSocket-Extensions" not in websocket.response.headers
    with (
        serve_in_thread(Settings(frontend_dir=tmp_path, ws_permessage_deflate=True)) as deflating,
        connect(f"{deflating.ws_url}/ws") as websocket,
    ):
        assert websocket.response is not None
        assert "permessage-deflate" in websocket.response.headers["Sec-WebSocket-Extensions"]
        websocket.send("squeezed")
        assert websocket.recv(timeout=5) == "Message text was: squeezed"


async def test_a_flooding_client_is_throttled_and_others_keep_their_round_trips(
    own_process: LiveServer,
) -> None:
    started = time.monotonic()
    flooded = 0
    async with async_connect(f"{own_process.ws_url}/ws") as flooder:

        async def flood() -> None:
            for index in range(5000):
                await flooder.send(f"flood {index}")

        async def count_replies() -> None:
            nonlocal flooded
            async for _ in flooder:
                flooded += 1

        tasks = [asyncio.create_task(flood()), asyncio.create_task(count_replies())]
        await asyncio.sleep(0.2)  # the flood is under way
        answered = 0
        async with async_connect(f"{own_process.ws_url}/ws") as other:
            # Each round trip may take 0.5 s at most: a bound, not a measurement.
            for index in range(20):
                await other.send(f"ping {index}")
                try:
                    reply = await asyncio.wait_for(other.recv(), 0.5)
                except TimeoutError:
                    break
                assert reply == f"Message text was: ping {index}"
                answered += 1
        for task in tasks:
            task.cancel()  # so flooded counts no more
    elapsed = time.monotonic() - started
    assert answered == 20
    # 50 messages/s after a burst of 20: far fewer replies than the 5,000 sent.
    assert flooded <= 20 + 50 * elapsed + 10, (flooded, elapsed)
    assert "throttling a client of /ws: over 50 messages/s" in own_process.log()
