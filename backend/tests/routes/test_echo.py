"""The guide's echo endpoint, each case of docs/contract.md section 1, through TestClient."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import status
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


def test_echo_answers_each_message_in_order(client: TestClient) -> None:
    with client.websocket_connect("/ws") as websocket:
        for text in ["Hello", "second message", ""]:
            websocket.send_text(text)
            assert websocket.receive_text() == f"Message text was: {text}"


def test_echo_keeps_unicode_intact(client: TestClient) -> None:
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("héllo ✓ 🚀")
        assert websocket.receive_text() == "Message text was: héllo ✓ 🚀"


def test_echo_sends_binary_back_unchanged(client: TestClient) -> None:
    payload = bytes(range(256))
    with client.websocket_connect("/ws") as websocket:
        websocket.send_bytes(payload)
        assert websocket.receive_bytes() == payload


def test_echo_accepts_the_text_subprotocol_and_echoes_it(client: TestClient) -> None:
    with client.websocket_connect("/ws", subprotocols=["realtime.text.v1"]) as websocket:
        assert websocket.accepted_subprotocol == "realtime.text.v1"
        websocket.send_text("X")
        assert websocket.receive_text() == "Message text was: X"


def test_echo_ignores_unknown_subprotocols(client: TestClient) -> None:
    with client.websocket_connect("/ws", subprotocols=["chat.unknown"]) as websocket:
        assert websocket.accepted_subprotocol is None
        websocket.send_text("X")
        assert websocket.receive_text() == "Message text was: X"


@contextmanager
def json_conversation(client: TestClient, path: str = "/ws") -> Iterator[Any]:
    """A realtime.json.v1 conversation, past its welcome."""
    with client.websocket_connect(
        path, subprotocols=["realtime.json.v1", "realtime.text.v1"]
    ) as websocket:
        welcome = websocket.receive_json()
        assert welcome["type"] == "welcome"
        yield websocket


def test_a_json_client_is_told_its_connection_id_and_sender_key_first(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws", subprotocols=["realtime.json.v1"]) as websocket:
        welcome = websocket.receive_json()
        assert welcome.keys() == {"type", "connection_id", "sender_key"}
        assert welcome["type"] == "welcome"
        assert len(welcome["connection_id"]) >= 8
        assert 16 <= len(welcome["sender_key"]) <= 64
    # A key the client gives back is its own again; a malformed one is replaced.
    given = "k" * 22
    with client.websocket_connect(
        f"/ws?sender_key={given}", subprotocols=["realtime.json.v1"]
    ) as websocket:
        assert websocket.receive_json()["sender_key"] == given
    with client.websocket_connect(
        "/ws?sender_key=short", subprotocols=["realtime.json.v1"]
    ) as websocket:
        assert websocket.receive_json()["sender_key"] != "short"


def test_json_subprotocol_is_preferred_in_the_clients_order(client: TestClient) -> None:
    with json_conversation(client) as websocket:
        assert websocket.accepted_subprotocol == "realtime.json.v1"


def test_json_text_gets_the_guides_reply_with_its_id(client: TestClient) -> None:
    with json_conversation(client) as websocket:
        websocket.send_json({"type": "text", "id": "m1", "text": "Hello"})
        assert websocket.receive_json() == {
            "type": "text",
            "text": "Message text was: Hello",
            "reply_to": "m1",
        }


def test_json_ping_gets_a_pong_with_the_same_id_and_time(client: TestClient) -> None:
    with json_conversation(client) as websocket:
        websocket.send_json({"type": "ping", "id": "p7", "sent_at": 1234.5})
        assert websocket.receive_json() == {"type": "pong", "id": "p7", "sent_at": 1234.5}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ('{"type": "shout", "id": "m1"}', "unknown_type"),
        ('{"type": "text", "id": "m2", "text": 42}', "invalid_message"),
    ],
)
def test_malformed_json_gets_a_typed_error_and_the_connection_stays(
    client: TestClient, raw: str, code: str
) -> None:
    with json_conversation(client) as websocket:
        websocket.send_text(raw)
        assert websocket.receive_json()["code"] == code
        websocket.send_json({"type": "text", "id": "after", "text": "still here"})
        assert websocket.receive_json()["text"] == "Message text was: still here"


def test_oversized_json_message_is_closed_with_1009(client: TestClient) -> None:
    with json_conversation(client) as websocket:
        websocket.send_text("x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_json()
    assert exc.value.code == status.WS_1009_MESSAGE_TOO_BIG
    assert exc.value.reason == "message too big: the limit is 65536 bytes"


def test_binary_is_echoed_in_the_json_subprotocol_too(client: TestClient) -> None:
    with json_conversation(client) as websocket:
        websocket.send_bytes(b"\x00\x01\xfe\xff")
        assert websocket.receive_bytes() == b"\x00\x01\xfe\xff"
