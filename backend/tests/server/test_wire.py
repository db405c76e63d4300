"""Frames built once and written as they are: the header at each length boundary of RFC 6455
(125/126 bytes, 65535/65536), checked against what the websockets library itself parses."""

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from app.server.wire import WireFrame, binary_frame, text_frame


def parsed(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("the frame was not complete")


@pytest.mark.parametrize(
    ("length", "header"),
    [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10), (70_000, 10)],
)
def test_a_text_frame_has_the_header_its_length_needs(length: int, header: int) -> None:
    payload = b"x" * length
    frame = text_frame(payload)
    assert len(frame) == header + length
    decoded = parsed(frame)
    assert (decoded.opcode, decoded.fin, decoded.data) == (Opcode.TEXT, True, payload)


@pytest.mark.parametrize("length", [0, 125, 126, 65_535, 65_536])
def test_a_binary_frame_too(length: int) -> None:
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    decoded = parsed(binary_frame(payload))
    assert (decoded.opcode, decoded.data) == (Opcode.BINARY, payload)


def test_a_wire_frame_counts_its_bytes_on_the_wire_and_builds_once() -> None:
    ascii_frame = WireFrame("hello")
    assert ascii_frame.size == 5
    accented = WireFrame("héllo")
    assert accented.size == 6  # é is two bytes in UTF-8
    assert accented.frame is accented.frame  # built once, then shared
    assert parsed(accented.frame).data == "héllo".encode()
    raw = WireFrame.of_bytes(b"\x00\xff")
    assert (raw.size, parsed(raw.frame).opcode) == (2, Opcode.BINARY)
