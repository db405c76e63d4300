from fastapi.testclient import TestClient


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
