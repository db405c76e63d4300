"""A minimal WebSocket client for load generation: asyncio protocol, prebuilt frames, no checks.

The websockets library spends tens of microseconds per message on validation and its own
queues, which would make the load generator the bottleneck. This client does only what a
benchmark needs: the opening handshake, text frames masked with a zero key (legal, and it makes
masking free), reading frames, answering pings, and permessage-deflate when asked to offer it,
compressing what it sends as a browser does.
"""

import asyncio
import base64
import os
import struct
import time
import zlib
from collections.abc import Callable

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
ZERO_MASK = b"\x00\x00\x00\x00"
DEFLATE_TAIL = b"\x00\x00\xff\xff"


def client_frame(opcode: int, payload: bytes, *, rsv1: bool = False) -> bytes:
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + ZERO_MASK + payload


class Deflate:
    """permessage-deflate with context takeover, as browsers negotiate it."""

    def __init__(self, client_bits: int, server_bits: int) -> None:
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, -client_bits)
        self.decompressor = zlib.decompressobj(-server_bits)

    def compress(self, data: bytes) -> bytes:
        compressed = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        return compressed[:-4] if compressed.endswith(DEFLATE_TAIL) else compressed

    def decompress(self, data: bytes) -> bytes:
        return self.decompressor.decompress(data + DEFLATE_TAIL)


class BenchClient(asyncio.Protocol):
    """One connection; ``on_message(payload, received_at)`` is called for each message."""

    def __init__(self, on_message: Callable[[bytes, float], None] | None = None) -> None:
        self.on_message = on_message or (lambda payload, at: None)
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake_done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.deflate: Deflate | None = None
        self.fragments: list[bytes] = []
        self.fragment_compressed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake_done.done():
            self.handshake_done.set_exception(exc or ConnectionError("closed in handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshake_done.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            if not head.startswith("HTTP/1.1 101"):
                self.handshake_done.set_exception(ConnectionError(head.splitlines()[0]))
                return
            self.handshake_done.set_result(head)
        self._read_frames()

    # sending
    def send_text(self, payload: bytes) -> None:
        assert self.transport is not None
        if self.deflate is not None:
            self.transport.write(client_frame(OP_TEXT, self.deflate.compress(payload), rsv1=True))
        else:
            self.transport.write(client_frame(OP_TEXT, payload))

    def send_prebuilt(self, frame: bytes) -> None:
        assert self.transport is not None
        self.transport.write(frame)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()

    # reading
    def _read_frames(self) -> None:
        buffer = self.buffer
        now = time.perf_counter()
        offset = 0
        while len(buffer) - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length = second & 0x7F
            start = offset + 2
            if length == 126:
                if len(buffer) - offset < 4:
                    break
                length = struct.unpack_from("!H", buffer, start)[0]
                start += 2
            elif length == 127:
                if len(buffer) - offset < 10:
                    break
                length = struct.unpack_from("!Q", buffer, start)[0]
                start += 8
            if len(buffer) - start < length:
                break
            payload = bytes(buffer[start : start + length])
            offset = start + length
            self._on_frame(first, payload, now)
        del buffer[:offset]

    def _on_frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == OP_PING:
            self.send_prebuilt(client_frame(OP_PONG, payload))
            return
        if opcode == OP_CLOSE:
            if self.transport is not None:
                self.transport.close()
            return
        if opcode == OP_PONG:
            return
        if opcode != 0:  # the first frame of a message
            self.fragment_compressed = bool(first & 0x40)
        self.fragments.append(payload)
        if not first & 0x80:
            return
        message = b"".join(self.fragments) if len(self.fragments) > 1 else self.fragments[0]
        self.fragments = []
        if self.fragment_compressed and self.deflate is not None:
            message = self.deflate.decompress(message)
        self.on_message(message, now)


async def open_client(
    host: str,
    port: int,
    path: str,
    on_message: Callable[[bytes, float], None] | None = None,
    *,
    offer_deflate: bool = False,
    subprotocol: str | None = None,
) -> BenchClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: BenchClient(on_message), host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    extensions = ""
    if offer_deflate:
        extensions += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    if subprotocol:
        extensions += f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
    assert client.transport is not None
    client.transport.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"{extensions}\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(client.handshake_done, 30)
    for line in head.lower().splitlines():
        if line.startswith("sec-websocket-extensions:") and "permessage-deflate" in line:
            client.deflate = Deflate(
                _bits(line, "client_max_window_bits"), _bits(line, "server_max_window_bits")
            )
    return client


def _bits(header_line: str, name: str) -> int:
    for part in header_line.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return int(value)
    return 15
