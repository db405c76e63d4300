"""Clients for hostile cases: raw sockets that speak as much HTTP and WebSocket as a test needs."""

import base64
import os
import socket
import struct

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from tests.servers import Addresses

TEXT_V1 = [Subprotocol("realtime.text.v1")]

UPGRADE = (
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


def closed_with(
    websocket_url: str, headers: dict[str, str] | None = None, origin: str | None = None
) -> tuple[int, str]:
    """Connects with realtime.text.v1 and returns the code and reason the server closed with."""
    with (
        connect(
            websocket_url,
            subprotocols=TEXT_V1,
            additional_headers=headers,
            origin=Origin(origin) if origin else None,
        ) as websocket,
        pytest.raises(ConnectionClosedError) as exc,
    ):
        websocket.recv(timeout=5)
    assert exc.value.rcvd is not None
    return exc.value.rcvd.code, exc.value.rcvd.reason


def open_connection(url: str) -> ClientConnection:
    """A connection held open across a test's steps (closed by the test)."""
    return connect(url).__enter__()


def raw_socket(server: Addresses) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def handshake(sock: socket.socket, path: str = "/ws") -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head


def frames_of(data: bytes) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of each whole frame in what a server sent (its frames are not
    masked)."""
    frames, at = [], 0
    while at + 2 <= len(data):
        opcode, length, at = data[at] & 0x0F, data[at + 1] & 0x7F, at + 2
        if length == 126:
            length, at = struct.unpack("!H", data[at : at + 2])[0], at + 2
        elif length == 127:
            length, at = struct.unpack("!Q", data[at : at + 8])[0], at + 8
        if at + length > len(data):
            break
        frames.append((opcode, data[at : at + length]))
        at += length
    return frames


def close_frame(data: bytes) -> tuple[int, bytes]:
    """The code and reason of the first close frame in what the server sent (read frame by
    frame: a ping's random payload may hold the byte a close frame starts with)."""
    payload = next(payload for opcode, payload in frames_of(data) if opcode == 0x8)
    return struct.unpack("!H", payload[:2])[0], payload[2:]
