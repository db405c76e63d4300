"""What guide clients say while Redis is away is kept by their process, bounded in bytes
(APP_CHAT_HELD_BYTES): a sender that would go beyond is closed with 1013 and a reason before
its message is echoed, so that "You wrote: X" is only ever said of a message that was kept;
once Redis returns, every echoed message reaches the other members, on this process and on
another, once and in order, and the one refused never does.

Without the byte bound (867e375: 10,000 messages, however big) the sender is never closed
here: all 30 of its 8 KB messages are echoed and kept, and the test fails on that.
"""

import asyncio
import contextlib

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from testkit.processes import RedisServer
from testkit.waiting import wait_until_async
from tests.servers import InProcessServer, ThreadServers, broker_connected

ROOM = "held"
HELD_BYTES = 64 * 1024  # APP_CHAT_HELD_BYTES (its least)
TEXT = 8000
ATTEMPTS = 30  # 240 KB: far beyond the bound
CANNOT_KEEP = (1013, "the room cannot keep what you say right now: try again later")


@pytest.fixture
def two_servers(redis_server: RedisServer, thread_servers: ThreadServers) -> list[InProcessServer]:
    return [
        thread_servers.start(broker=True, redis_url=redis_server.url, chat_held_bytes=HELD_BYTES)
        for _ in range(2)
    ]


class Listener:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.lines: list[str] = []
        self.task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for line in self.connection:
                self.lines.append(str(line))

    def said(self) -> list[str]:
        return [line for line in self.lines if line.startswith("Client #1 says: ")]


async def test_guide_messages_held_in_an_outage_are_bounded_and_none_echoed_is_lost(
    two_servers: list[InProcessServer], redis_server: RedisServer
) -> None:
    first, second = two_servers

    sender = await connect(f"{first.ws_url}/ws/1?room={ROOM}")
    here = Listener(await connect(f"{first.ws_url}/ws/2?room={ROOM}"))
    there = Listener(await connect(f"{second.ws_url}/ws/3?room={ROOM}"))
    await sender.send("before")
    assert await sender.recv() == "You wrote: before"
    for listener in (here, there):
        await wait_until_async(
            lambda one=listener: "Client #1 says: before" in one.said(), 10, "before"
        )

    redis_server.stop()
    await wait_until_async(
        lambda: not broker_connected(first) and not broker_connected(second), 10, "Redis gone"
    )
    echoed: list[str] = []
    refused: str | None = None
    for number in range(ATTEMPTS):
        text = f"{number} " + "x" * TEXT
        await sender.send(text)
        lines: list[str] = []
        try:
            while not lines or lines[-1] != f"You wrote: {text}":
                lines.append(str(await asyncio.wait_for(sender.recv(), 10)))
        except ConnectionClosed:
            refused = text
            assert not lines, lines  # closed before any echo of it
            break
        echoed.append(text)
    assert refused is not None, f"all {ATTEMPTS} messages of {TEXT} characters were kept"
    assert sender.close_code == CANNOT_KEEP[0]
    assert sender.close_reason == CANNOT_KEEP[1]
    assert 1 <= len(echoed) <= HELD_BYTES // TEXT

    redis_server.start()  # empty, as a Redis without persistence comes back
    wanted = ["Client #1 says: before", *(f"Client #1 says: {text}" for text in echoed)]
    for listener in (here, there):
        await wait_until_async(
            lambda one=listener: one.said() == wanted, 30, "every echoed message"
        )
    await asyncio.sleep(0.5)  # time for a repeat, or for the refused one, were there one
    for listener in (here, there):
        assert listener.said() == wanted
        assert f"Client #1 says: {refused}" not in listener.lines
    # Both processes serve again.
    for server, client_id in ((first, 4), (second, 5)):
        async with connect(f"{server.ws_url}/ws/{client_id}?room=after-{client_id}") as websocket:
            await websocket.send("hello")
            assert await websocket.recv() == "You wrote: hello"
    for listener in (here, there):
        await listener.connection.close()
        listener.task.cancel()


async def test_one_client_cannot_take_every_place_of_what_is_held(
    redis_server: RedisServer, thread_servers: ThreadServers
) -> None:
    # One client address may have at most an eighth of APP_CHAT_HELD_BYTES kept (64 KiB at
    # least): past it, it is closed with 1013, and another client still has its messages kept
    # and echoed. Without the share, the first takes all 512 KiB and the second is closed at
    # its first message.
    server = thread_servers.start(
        broker=True, redis_url=redis_server.url, chat_held_bytes=8 * HELD_BYTES
    )
    room = "shared-held"
    greedy = await connect(
        f"{server.ws_url}/ws/1?room={room}", additional_headers={"X-Forwarded-For": "203.0.113.1"}
    )
    modest = await connect(
        f"{server.ws_url}/ws/2?room={room}", additional_headers={"X-Forwarded-For": "203.0.113.2"}
    )
    redis_server.stop()
    await wait_until_async(lambda: not broker_connected(server), 10, "Redis gone")
    kept = 0
    with contextlib.suppress(ConnectionClosed):
        for number in range(8 * HELD_BYTES // TEXT):  # enough to fill the whole store
            text = f"{number} " + "g" * TEXT
            await greedy.send(text)
            assert await asyncio.wait_for(greedy.recv(), 10) == f"You wrote: {text}"
            kept += 1
    assert (greedy.close_code, greedy.close_reason) == CANNOT_KEEP
    assert 1 <= kept <= HELD_BYTES // TEXT  # its share, 64 KiB, not the store's 512
    for number in range(3):
        text = f"{number} " + "m" * TEXT
        await modest.send(text)
        assert await asyncio.wait_for(modest.recv(), 10) == f"You wrote: {text}"
    await modest.close()
