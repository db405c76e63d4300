"""Reading a WebSocket's messages: text and bytes as values, a departure as a normal end with
its code, and the rate kept by the token bucket."""

from typing import Any, cast

from starlette.websockets import WebSocket

from app.conversation.frames import FrameReader
from app.conversation.rate_limit import RateLimit


class Rate:
    per_second = 10.0
    burst = 2


def reader() -> FrameReader:
    websocket = cast(WebSocket, type("Socket", (), {"url": type("U", (), {"path": "/ws"})()})())
    return FrameReader(websocket, cast(RateLimit, Rate()))


def receive(**fields: Any) -> dict[str, Any]:
    return {"type": "websocket.receive", **fields}


def test_text_and_bytes_come_out_as_they_are() -> None:
    frames = reader()
    assert frames.frame(receive(text="hello")) == "hello"
    assert frames.frame(receive(bytes=b"\x00\x01")) == b"\x00\x01"


def test_a_departure_ends_reading_with_its_code() -> None:
    frames = reader()
    assert frames.frame({"type": "websocket.disconnect", "code": 1001}) is None
    assert frames.close_code == 1001
    without = reader()
    assert without.frame({"type": "websocket.disconnect"}) is None
    assert without.close_code == 1005  # no close frame's code


def test_beyond_the_burst_a_message_waits_its_turn() -> None:
    frames = reader()
    frames.frame(receive(text="1"))
    frames.frame(receive(text="2"))
    assert frames.wait == 0
    frames.frame(receive(text="3"))
    assert 0 < frames.wait <= 0.1  # one token short, at 10 a second
