"""The guide's chat (docs/contract.md, section 3) through TestClient; rooms and JSON beside it."""

from typing import Any

import pytest
from fastapi import status
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

JSON_V1 = ["realtime.json.v1"]


def test_sender_gets_you_wrote_then_everyone_gets_the_broadcast(client: TestClient) -> None:
    with client.websocket_connect("/ws/1") as alice, client.websocket_connect("/ws/2") as bob:
        alice.send_text("Hello")
        assert alice.receive_text() == "You wrote: Hello"
        assert alice.receive_text() == "Client #1 says: Hello"
        assert bob.receive_text() == "Client #1 says: Hello"

        bob.send_text("Hi Alice")
        assert bob.receive_text() == "You wrote: Hi Alice"
        assert bob.receive_text() == "Client #2 says: Hi Alice"
        assert alice.receive_text() == "Client #2 says: Hi Alice"


def test_leaving_is_announced_to_those_who_stay(client: TestClient) -> None:
    with client.websocket_connect("/ws/1") as alice:
        with client.websocket_connect("/ws/2") as bob:
            bob.send_text("bye")
            assert bob.receive_text() == "You wrote: bye"
        assert alice.receive_text() == "Client #2 says: bye"
        assert alice.receive_text() == "Client #2 left the chat"


def test_a_client_alone_hears_itself(client: TestClient) -> None:
    with client.websocket_connect("/ws/42") as alone:
        alone.send_text("anyone?")
        assert alone.receive_text() == "You wrote: anyone?"
        assert alone.receive_text() == "Client #42 says: anyone?"


@pytest.mark.parametrize("path", ["/ws/abc", "/ws/-1", "/ws/1?room=no%20spaces", "/ws/1?room="])
def test_bad_client_id_or_room_is_refused_before_accept(client: TestClient, path: str) -> None:
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect(path):
        pass
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION


def test_rooms_are_separate_and_general_is_the_guides_chat(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/1?room=general") as in_general,
        client.websocket_connect("/ws/2") as also_general,
        client.websocket_connect("/ws/3?room=ops") as in_ops,
    ):
        in_ops.send_text("ops only")
        assert in_ops.receive_text() == "You wrote: ops only"
        assert in_ops.receive_text() == "Client #3 says: ops only"
        in_general.send_text("general")
        assert in_general.receive_text() == "You wrote: general"
        assert in_general.receive_text() == "Client #1 says: general"
        assert also_general.receive_text() == "Client #1 says: general"


def test_binary_is_refused_with_1003(client: TestClient) -> None:
    with client.websocket_connect("/ws/1") as websocket:
        websocket.send_bytes(b"\x00")
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_text()
    assert exc.value.code == status.WS_1003_UNSUPPORTED_DATA


def without_times(message: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(message.pop("at", 0.0), float)
    return message


def test_json_clients_get_presence_typed_messages_and_replies(client: TestClient) -> None:
    with client.websocket_connect("/ws/1", subprotocols=JSON_V1) as alice:
        assert without_times(alice.receive_json()) == {
            "type": "joined",
            "room": "general",
            "client_id": 1,
        }
        assert alice.receive_json() == {"type": "presence", "room": "general", "online": [1]}
        with client.websocket_connect("/ws/2") as bob:  # a guide client beside a JSON one
            assert without_times(alice.receive_json()) == {
                "type": "joined",
                "room": "general",
                "client_id": 2,
            }
            assert alice.receive_json() == {"type": "presence", "room": "general", "online": [1, 2]}

            alice.send_json({"type": "text", "id": "m1", "text": "Hello"})
            assert alice.receive_json() == {
                "type": "text",
                "text": "You wrote: Hello",
                "reply_to": "m1",
            }
            assert without_times(alice.receive_json()) == {
                "type": "chat",
                "room": "general",
                "client_id": 1,
                "text": "Hello",
            }
            assert bob.receive_text() == "Client #1 says: Hello"
        assert without_times(alice.receive_json()) == {
            "type": "left",
            "room": "general",
            "client_id": 2,
        }
        assert alice.receive_json() == {"type": "presence", "room": "general", "online": [1]}


def test_json_chat_answers_pings_and_malformed_input(client: TestClient) -> None:
    with client.websocket_connect("/ws/1?room=quiet", subprotocols=JSON_V1) as alice:
        alice.receive_json()  # joined
        alice.receive_json()  # presence
        alice.send_json({"type": "ping", "id": "p1", "sent_at": 1.5})
        assert alice.receive_json() == {"type": "pong", "id": "p1", "sent_at": 1.5}
        alice.send_text("{not json")
        assert alice.receive_json()["code"] == "invalid_json"
        alice.send_text("x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as exc:
            alice.receive_json()
    assert exc.value.code == status.WS_1009_MESSAGE_TOO_BIG
