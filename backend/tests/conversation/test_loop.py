"""The conversation loop around a handler, in each dialect: the guide's text as it is, typed
JSON with ids, pings answered, typed errors for what is not a message, the text limit, 1009 for
what is too big, and a departure counted as the client's."""

import json

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.conversation.loop import Conversation, Handler, MessageLimits, serve_conversation
from app.conversation.outlet import OutletLimits
from app.observability.metrics import Metrics

LIMITS = MessageLimits(max_bytes=1000, per_second=1000, burst=1000, max_text_length=10)
JSON_V1 = ["realtime.json.v1"]


class Upper(Handler):
    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await conversation.reply(text.upper(), message_id)


def app_with(metrics: Metrics) -> FastAPI:
    app = FastAPI()

    @app.websocket("/upper")
    async def upper(websocket: WebSocket) -> None:
        conversation = Conversation(websocket, metrics.stats_for("/upper"), OutletLimits(8, 4096))
        await serve_conversation(conversation, Upper(), LIMITS, metrics)

    return app


def test_the_guides_dialect_is_plain_text() -> None:
    with TestClient(app_with(Metrics(enabled=False))).websocket_connect("/upper") as socket:
        socket.send_text("hi")
        assert socket.receive_text() == "HI"


def test_json_messages_are_answered_by_id_and_pings_by_pongs() -> None:
    client = TestClient(app_with(Metrics(enabled=False)))
    with client.websocket_connect("/upper", subprotocols=JSON_V1) as socket:
        assert socket.receive_json()["type"] == "welcome"
        socket.send_text(json.dumps({"type": "text", "id": "m1", "text": "hi"}))
        assert socket.receive_json() == {"type": "text", "text": "HI", "reply_to": "m1"}
        socket.send_text(json.dumps({"type": "ping", "id": "p1", "sent_at": 1.5}))
        assert socket.receive_json() == {"type": "pong", "id": "p1", "sent_at": 1.5}


def test_what_is_not_a_message_gets_a_typed_error_and_the_connection_stays() -> None:
    client = TestClient(app_with(Metrics(enabled=False)))
    with client.websocket_connect("/upper", subprotocols=JSON_V1) as socket:
        socket.receive_json()  # welcome
        socket.send_text("{not json")
        assert socket.receive_json()["code"] == "invalid_json"
        socket.send_text(json.dumps({"type": "shout", "id": "s1"}))
        unknown = socket.receive_json()
        assert (unknown["code"], unknown["reply_to"]) == ("unknown_type", "s1")
        socket.send_text(json.dumps({"type": "text", "id": "m2", "text": "x" * 11}))
        error = socket.receive_json()
        assert (error["code"], error["detail"], error["reply_to"]) == (
            "invalid_message",
            "text: at most 10 characters",
            "m2",
        )
        socket.send_text(json.dumps({"type": "text", "id": "m3", "text": "still"}))
        assert socket.receive_json()["text"] == "STILL"


def test_a_message_over_the_byte_limit_is_closed_with_1009() -> None:
    client = TestClient(app_with(Metrics(enabled=False)))
    with client.websocket_connect("/upper", subprotocols=JSON_V1) as socket:
        socket.receive_json()
        socket.send_text(json.dumps({"type": "text", "id": "m1", "text": "é" * 600}))
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1009


def test_opening_and_closing_are_counted_under_the_routes_template() -> None:
    metrics = Metrics()
    with TestClient(app_with(metrics)).websocket_connect("/upper") as socket:
        socket.send_text("hi")
        socket.receive_text()
        assert metrics.open_now[("/upper", "none")] == 1
    assert metrics.open_now[("/upper", "none")] == 0
    assert metrics.stats["/upper"].received == 1
    assert metrics.stats["/upper"].sent == 1
