"""WebSocket frames built once and written as they are, for a broadcast to many connections.

A server's frames are not masked (RFC 6455 5.1), so one text frame is the same bytes for every
connection that negotiated no extension: a room's event is encoded once and the same bytes are
handed to each transport, as Node's ``ws`` does, instead of each connection framing it again.
"""

import struct
from collections.abc import MutableMapping
from typing import Any, Protocol

# The WebSocket scope extension by which our protocol classes (app.server.protocols) offer
# the app their connection. Its value is the protocol instance itself rather than a dict
# holding it: a dict per connection is memory every idle connection pays for.
TRANSPORT_EXTENSION = "app.transport"

OP_TEXT_FINAL = 0x81
OP_BINARY_FINAL = 0x82


def _frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        return bytes((opcode, length)) + payload
    if length < 65_536:
        return struct.pack("!BBH", opcode, 126, length) + payload
    return struct.pack("!BBQ", opcode, 127, length) + payload


def text_frame(payload: bytes) -> bytes:
    return _frame(OP_TEXT_FINAL, payload)


def binary_frame(payload: bytes) -> bytes:
    return _frame(OP_BINARY_FINAL, payload)


class WireFrame:
    """A message for one or many connections: its text (or bytes), and its frame, built when
    first needed and then shared. ``size`` is its payload's bytes on the wire."""

    __slots__ = ("_frame", "data", "size", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data: bytes | None = None
        self._frame: bytes | None = None
        self.size = len(text) if text.isascii() else len(text.encode())

    @classmethod
    def of_bytes(cls, data: bytes) -> "WireFrame":
        frame = cls("")
        frame.data, frame.size = data, len(data)
        return frame

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            data = self.data
            self._frame = text_frame(self.text.encode()) if data is None else binary_frame(data)
        return self._frame


class ConnectionTransport(Protocol):
    """What the app may do with a connection beyond ASGI."""

    # Whether prebuilt frames may be written (not with permessage-deflate).
    raw_frames: bool

    def write_frame(self, frame: bytes) -> bool:
        """Writes a complete frame now; False when the connection cannot take it now."""

    async def drained(self) -> None:
        """Returns once the connection's buffers have room again."""

    def abort(self) -> None:
        """Cuts the connection off at once with a reset, dropping whatever is unsent."""


def transport_of(scope: MutableMapping[str, Any]) -> ConnectionTransport | None:
    transport: ConnectionTransport | None = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
    return transport
