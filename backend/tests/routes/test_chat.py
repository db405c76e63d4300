"""The guide's chat (docs/contract.md, section 3) through TestClient; rooms and JSON beside it."""

from collections.abc import Iterator
from contextlib import contextmanager
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


def bare(message: dict[str, Any]) -> dict[str, Any]:
    """The message without what changes from run to run: its time and its room's epoch."""
    assert isinstance(message.pop("at", 0.0), float)
    assert isinstance(message.pop("epoch", ""), str)
    return message


@contextmanager
def join_json(client: TestClient, path: str) -> Iterator[Any]:
    """A realtime.json.v1 member, past its welcome."""
    with client.websocket_connect(path, subprotocols=JSON_V1) as websocket:
        assert websocket.receive_json()["type"] == "welcome"
        yield websocket


def test_json_clients_get_positions_history_presence_and_acks(client: TestClient) -> None:
    with join_json(client, "/ws/1") as alice:
        # The room's history first (here only Alice's own arrival), then where that ends.
        assert bare(alice.receive_json()) == {
            "type": "joined",
            "room": "general",
            "client_id": 1,
            "offset": 1,
        }
        assert bare(alice.receive_json()) == {
            "type": "sync",
            "room": "general",
            "offset": 1,
            "recovered": False,
            "reason": "first_join",
            "replayed": 1,
        }
        assert alice.receive_json() == {
            "type": "presence",
            "room": "general",
            "online": [1],
            "complete": True,
        }
        with client.websocket_connect("/ws/2") as bob:  # a guide client beside a JSON one
            assert bare(alice.receive_json()) == {
                "type": "joined",
                "room": "general",
                "client_id": 2,
                "offset": 2,
            }
            assert alice.receive_json()["online"] == [1, 2]

            alice.send_json({"type": "text", "id": "m1", "text": "Hello"})
            assert bare(alice.receive_json()) == {
                "type": "chat",
                "room": "general",
                "client_id": 1,
                "text": "Hello",
                "message_id": "m1",
                "offset": 3,
            }
            assert bare(alice.receive_json()) == {
                "type": "ack",
                "reply_to": "m1",
                "room": "general",
                "offset": 3,
            }
            assert bob.receive_text() == "Client #1 says: Hello"  # the guide's words, still
        assert bare(alice.receive_json()) == {
            "type": "left",
            "room": "general",
            "client_id": 2,
            "offset": 4,
        }
        assert alice.receive_json()["online"] == [1]


def skip_to_sync(websocket: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The history a member gets on joining, and the sync that ends it."""
    history = []
    while (message := websocket.receive_json())["type"] != "sync":
        history.append(message)
    return history, message


def test_a_message_sent_twice_is_placed_once(client: TestClient) -> None:
    with join_json(client, "/ws/1?room=twice") as alice:
        skip_to_sync(alice)
        alice.receive_json()  # presence
        for _ in range(2):  # as after a lost acknowledgement: the same id again
            alice.send_json({"type": "text", "id": "same", "text": "once"})
        first = [alice.receive_json() for _ in range(3)]
        assert [m["type"] for m in first] == ["chat", "ack", "ack"]
        assert first[1]["offset"] == first[2]["offset"] == first[0]["offset"]
    with join_json(client, "/ws/2?room=twice") as bob:
        history, _ = skip_to_sync(bob)
        assert [m["text"] for m in history if m["type"] == "chat"] == ["once"]


def test_a_newcomer_gets_the_recent_history_first(client: TestClient) -> None:
    with client.websocket_connect("/ws/1?room=past") as alice:
        for number in range(3):
            alice.send_text(f"said {number}")
            alice.receive_text()
            alice.receive_text()
        with join_json(client, "/ws/2?room=past") as bob:
            history, sync = skip_to_sync(bob)
            assert [m["text"] for m in history if m["type"] == "chat"] == [
                "said 0",
                "said 1",
                "said 2",
            ]
            assert (sync["recovered"], sync["reason"]) == (False, "first_join")
            assert sync["offset"] == history[-1]["offset"]


def test_a_member_back_with_its_position_gets_what_it_missed(client: TestClient) -> None:
    with join_json(client, "/ws/1?room=gap") as alice:
        _, sync = skip_to_sync(alice)
        position = f"{sync['epoch']}:{sync['offset']}"
    with client.websocket_connect("/ws/2?room=gap") as bob:
        for text in ("while you were away", "and this"):
            bob.send_text(text)
            bob.receive_text()
            bob.receive_text()
        with join_json(client, f"/ws/1?room=gap&since={position}") as alice:
            missed, sync = skip_to_sync(alice)
            assert [(m["type"], m.get("text")) for m in missed] == [
                ("left", None),  # Alice's own departure
                ("joined", None),  # Bob
                ("chat", "while you were away"),
                ("chat", "and this"),
                ("joined", None),  # Alice, back
            ]
            offsets = [m["offset"] for m in missed]
            assert offsets == list(range(offsets[0], offsets[0] + 5))
            assert (sync["recovered"], sync["reason"], sync["replayed"]) == (True, None, 5)


def test_a_position_from_a_lost_history_says_so(client: TestClient) -> None:
    with join_json(client, "/ws/1?room=lost&since=deadbeef:7") as alice:
        _, sync = skip_to_sync(alice)
        assert (sync["recovered"], sync["reason"]) == (False, "epoch_changed")


def test_a_malformed_position_is_refused(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/1?since=nonsense", subprotocols=JSON_V1) as websocket,
        pytest.raises(WebSocketDisconnect) as exc,
    ):
        websocket.receive_json()
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION
    assert exc.value.reason == "since: expected epoch:offset, e.g. 3f9a1c2b:42"


def test_json_chat_answers_pings_and_malformed_input(client: TestClient) -> None:
    with join_json(client, "/ws/1?room=quiet") as alice:
        skip_to_sync(alice)
        alice.receive_json()  # presence
        alice.send_json({"type": "ping", "id": "p1", "sent_at": 1.5})
        assert alice.receive_json() == {"type": "pong", "id": "p1", "sent_at": 1.5}
        alice.send_text("{not json")
        assert alice.receive_json()["code"] == "invalid_json"
        alice.send_text("x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as exc:
            alice.receive_json()
    assert exc.value.code == status.WS_1009_MESSAGE_TOO_BIG
