"""When the WebSocket protocol pauses reading: only once 8 messages wait for the app, not around
every message as uvicorn alone does (two epoll changes each), and it resumes once they are taken.

The protocol is driven directly, with a transport that records the calls: the pause is a
kernel-level effect that a client over a real socket could not tell apart."""

import asyncio
import os
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.protocols import GuardedWebSocketProtocol

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    return (
        bytes((0x81, 0x80 | len(payload)))
        + mask
        + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    )


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.closing = False

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def accepted(app: Any) -> tuple[GuardedWebSocketProtocol, RecordingTransport]:
    """The protocol serving ``app``, its handshake received and given time to be accepted."""
    config = Config(app, ws_ping_interval=None, lifespan="off")
    config.load()
    protocol = GuardedWebSocketProtocol(config, ServerState(), {})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    await asyncio.sleep(0.01)  # the app accepts
    return protocol, transport


async def test_reading_pauses_only_once_eight_messages_wait_and_resumes_once_taken() -> None:
    may_read = asyncio.Event()
    taken: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await may_read.wait()
        while len(taken) < 8:
            taken.append((await receive())["text"])
        await asyncio.Event().wait()  # stays connected

    protocol, transport = await accepted(app)
    calls: list[str] = []
    for number in range(8):
        protocol.data_received(masked_text_frame(f"m{number}"))
        calls.append(f"{number + 1} waiting: {transport.calls}")
    may_read.set()
    await asyncio.sleep(0.01)  # the app takes all eight
    assert taken == [f"m{number}" for number in range(8)]
    calls.append(f"all taken: {transport.calls}")
    protocol.connection_lost(None)
    await asyncio.sleep(0)
    assert calls == [
        *(f"{waiting} waiting: []" for waiting in range(1, 8)),
        "8 waiting: ['pause']",
        "all taken: ['pause', 'resume']",
    ]


async def test_reading_is_not_paused_or_resumed_for_messages_taken_one_by_one() -> None:
    taken: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            taken.append(message["text"])

    protocol, transport = await accepted(app)
    for number in range(20):
        protocol.data_received(masked_text_frame(f"m{number}"))
        await asyncio.sleep(0)  # the app takes each before the next comes
    await asyncio.sleep(0.01)
    assert len(taken) == 20
    protocol.connection_lost(None)
    await asyncio.sleep(0)
    assert transport.calls == []


async def test_reading_pauses_once_big_messages_add_up_whatever_their_count() -> None:
    """Eight messages of 64 KiB would be half a MiB waiting per connection: reading pauses
    once 64 KiB wait, here with the second message of 40 KB."""

    may_read = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await may_read.wait()
        for _ in range(2):
            assert len((await receive())["text"]) == 40_000
        await asyncio.Event().wait()

    protocol, transport = await accepted(app)
    calls = []
    for _ in range(2):
        protocol.data_received(masked_frame("x" * 40_000))
        calls.append(list(transport.calls))
    may_read.set()
    await asyncio.sleep(0.01)
    calls.append(list(transport.calls))
    left = protocol.queued_bytes
    protocol.connection_lost(None)
    await asyncio.sleep(0)
    assert [str(call) for call in calls] == ["[]", "['pause']", "['pause', 'resume']"]
    assert left == 0  # every byte counted in is counted out


def masked_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    if len(payload) < 126:
        head = bytes((0x81, 0x80 | len(payload)))
    else:
        head = bytes((0x81, 0x80 | 126)) + len(payload).to_bytes(2, "big")
    return head + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
