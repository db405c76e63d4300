"""The bound tests' clients: a realtime.json.v1 member that keeps every frame it gets, a
talker that fills a room's history, and a client that never reads."""

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

JSON_V1 = [Subprotocol("realtime.json.v1")]
TEXT_V1 = [Subprotocol("realtime.text.v1")]
MIB = 1024 * 1024
# The settings of a process whose rooms a test fills fast: 32 MiB of history each, and no
# rate limit on what a client sends.
FAST_FILLED_ROOMS: dict[str, Any] = {
    "APP_LOG_LEVEL": "info",
    "APP_ROOM_HISTORY_BYTES": str(32 * MIB),
    "APP_WS_MESSAGES_PER_SECOND": "100000",
    "APP_WS_MESSAGE_BURST": "100000",
}


@dataclass
class JsonMember:
    """A realtime.json.v1 chat member that keeps every message it is sent, with its size."""

    connection: ClientConnection
    messages: list[dict[str, Any]] = field(default_factory=list)
    # Bytes of each message's frame, in the same order.
    sizes: list[int] = field(default_factory=list)
    # When each message arrived (time.monotonic()).
    times: list[float] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, url: str) -> "JsonMember":
        connection = await connect(url, subprotocols=JSON_V1, max_size=None, max_queue=None)
        member = cls(connection)
        member._reader = asyncio.create_task(member._read())
        await member.wait_for(lambda m: m["type"] == "welcome", 10)
        return member

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                self.sizes.append(len(frame))
                self.times.append(time.monotonic())
                self.messages.append(json.loads(frame))
        except ConnectionClosed:
            pass
        finally:
            received = self.connection.protocol.close_rcvd
            if received is not None:
                self.close_code, self.close_reason = received.code, received.reason
            self.ended.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]

    def texts(self) -> list[str]:
        return [message["text"] for message in self.of("chat")]

    @property
    def sender_key(self) -> str:
        key: str = self.of("welcome")[0]["sender_key"]
        return key

    async def wait_for(
        self, check: Callable[[dict[str, Any]], bool], seconds: float = 10, start: int = 0
    ) -> dict[str, Any]:
        """The first message from ``start`` on for which ``check`` holds."""
        deadline = time.monotonic() + seconds
        while True:
            for message in self.messages[start:]:
                if check(message):
                    return message
            if self.ended.is_set() or time.monotonic() > deadline:
                kinds = [m["type"] for m in self.messages[start:]][-10:]
                raise AssertionError(f"no such message within {seconds} s (last: {kinds})")
            await asyncio.sleep(0.01)

    async def sync(self, seconds: float = 10) -> dict[str, Any]:
        return await self.wait_for(lambda m: m["type"] == "sync", seconds)

    async def say(self, message_id: str, text: str, seconds: float = 10) -> dict[str, Any]:
        """Sends a text; the room's answer to it (an ack, or an error)."""
        start = len(self.messages)
        await self.connection.send(json.dumps({"type": "text", "id": message_id, "text": text}))
        return await self.wait_for(
            lambda m: m["type"] in ("ack", "error") and m.get("reply_to") == message_id,
            seconds,
            start,
        )

    async def close(self) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await self.connection.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def say_and_hear(talker: ClientConnection, number: int, size: int) -> None:
    """Sends ``number`` padded to ``size`` characters, and reads until the room says it back
    (the talker is Client #2)."""
    text = f"{number} " + "x" * size
    await talker.send(text)
    while str(await talker.recv()) != f"Client #2 says: {text}":
        pass


def position_of(message: dict[str, Any]) -> str:
    return f"{message['epoch']}:{message['offset']}"


def never_reading(
    port: int, path: str, subprotocol: str | None = None, receive_buffer: int = 4096
) -> socket.socket:
    """A WebSocket that completes its handshake and then reads nothing (or only as the caller
    reads its socket), with a small receive buffer (so that what the server sends piles up on
    the server's side, not in the kernel)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    offered = f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else ""
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{offered}\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock
