"""The guide's credentials endpoint, each case of docs/contract.md section 2, through TestClient."""

import pytest
from fastapi import status
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


def test_cookie_credential_without_q(client: TestClient) -> None:
    client.cookies.set("session", "fakesession")
    with client.websocket_connect("/items/foo/ws") as websocket:
        websocket.send_text("Message one")
        assert websocket.receive_text() == "Session cookie or query token value is: fakesession"
        assert websocket.receive_text() == "Message text was: Message one, for item ID: foo"


def test_token_credential_with_q(client: TestClient) -> None:
    with client.websocket_connect("/items/2/ws?q=3&token=some-token") as websocket:
        websocket.send_text("Message one")
        assert websocket.receive_text() == "Session cookie or query token value is: some-token"
        assert websocket.receive_text() == "Query parameter q is: 3"
        assert websocket.receive_text() == "Message text was: Message one, for item ID: 2"


def test_several_messages_on_one_connection(client: TestClient) -> None:
    with client.websocket_connect("/items/foo/ws?token=t") as websocket:
        for text in ["one", "two"]:
            websocket.send_text(text)
            assert websocket.receive_text() == "Session cookie or query token value is: t"
            assert websocket.receive_text() == f"Message text was: {text}, for item ID: foo"


def test_cookie_wins_over_token(client: TestClient) -> None:
    client.cookies.set("session", "from-cookie")
    with client.websocket_connect("/items/foo/ws?token=from-query") as websocket:
        websocket.send_text("X")
        assert websocket.receive_text() == "Session cookie or query token value is: from-cookie"


def test_item_id_is_any_string(client: TestClient) -> None:
    with client.websocket_connect("/items/caf%C3%A9%20au%20lait/ws?token=t") as websocket:
        websocket.send_text("X")
        websocket.receive_text()
        assert websocket.receive_text() == "Message text was: X, for item ID: café au lait"


@pytest.mark.parametrize(
    "path",
    [
        "/items/foo/ws",  # no credentials at all
        "/items/foo/ws?token=",  # an empty token is no credential
        "/items/foo/ws?q=3",  # q alone is no credential
    ],
)
def test_missing_credentials_are_refused_before_accept(client: TestClient, path: str) -> None:
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect(path):
        pass
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION


def test_q_that_is_not_an_integer_is_refused_before_accept(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect("/items/foo/ws?q=bar&token=some-token"),
    ):
        pass
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION


def test_refusal_reason_reaches_a_client_that_negotiated_the_text_subprotocol(
    client: TestClient,
) -> None:
    with client.websocket_connect("/items/foo/ws", subprotocols=["realtime.text.v1"]) as websocket:
        assert websocket.accepted_subprotocol == "realtime.text.v1"
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_text()
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION
    assert exc.value.reason == (
        "missing credentials: set the session cookie or the token query parameter"
    )


def test_validation_reason_names_the_parameter(client: TestClient) -> None:
    with (
        client.websocket_connect(
            "/items/foo/ws?q=bar&token=t", subprotocols=["realtime.text.v1"]
        ) as websocket,
        pytest.raises(WebSocketDisconnect) as exc,
    ):
        websocket.receive_text()
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION
    assert exc.value.reason == "q must be a whole number, such as 3"


def test_binary_message_is_refused_as_unsupported_data(client: TestClient) -> None:
    with client.websocket_connect("/items/foo/ws?token=t") as websocket:
        websocket.send_bytes(b"\x00\x01")
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_text()
    assert exc.value.code == status.WS_1003_UNSUPPORTED_DATA
    assert exc.value.reason == "this endpoint takes text only"


def test_items_speak_json_with_each_line_a_reply(client: TestClient) -> None:
    with client.websocket_connect(
        "/items/2/ws?q=3&token=some-token", subprotocols=["realtime.json.v1"]
    ) as websocket:
        assert websocket.receive_json()["type"] == "welcome"
        websocket.send_json({"type": "text", "id": "m1", "text": "Message one"})
        assert [websocket.receive_json() for _ in range(3)] == [
            {
                "type": "text",
                "text": "Session cookie or query token value is: some-token",
                "reply_to": "m1",
            },
            {"type": "text", "text": "Query parameter q is: 3", "reply_to": "m1"},
            {
                "type": "text",
                "text": "Message text was: Message one, for item ID: 2",
                "reply_to": "m1",
            },
        ]


def test_items_refusal_reaches_a_json_client_as_a_close_frame(client: TestClient) -> None:
    with (
        client.websocket_connect("/items/foo/ws", subprotocols=["realtime.json.v1"]) as websocket,
        pytest.raises(WebSocketDisconnect) as exc,
    ):
        websocket.receive_json()
    assert exc.value.code == status.WS_1008_POLICY_VIOLATION
