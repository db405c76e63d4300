"""docs/contract.md over real sockets: uvicorn in its own process, a real WebSocket client.

Each test runs twice: through ``python -m app`` (our protocol classes, frames written as they
are through the ``app.transport`` extension) and through bare uvicorn (its own classes, every
frame through ASGI)."""

import json
import socket
from collections.abc import Iterator

import httpx2
import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.servers import (
    BARE_UVICORN,
    INDEX_HTML,
    PYTHON_M_APP,
    LiveServer,
    ProcessServers,
    stop_live_server,
)


@pytest.fixture(scope="module", params=["fast path", "plain ASGI"])
def live_server(
    request: pytest.FixtureRequest, module_process_servers: ProcessServers
) -> Iterator[LiveServer]:
    """``python -m app``, and bare uvicorn with its own protocol classes: there is no
    ``app.transport`` extension there, so every frame goes through ASGI (the path the app
    takes under any other server, and with permessage-deflate)."""
    command = PYTHON_M_APP if request.param == "fast path" else BARE_UVICORN
    server = module_process_servers.start(command)
    yield server
    stop_live_server(server)  # before the next one starts


def test_echo_over_a_real_socket(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/ws") as websocket:
        for text in ["first", "second", "third"]:
            websocket.send(text)
            assert websocket.recv(timeout=5) == f"Message text was: {text}"
        websocket.send(b"\x00\xffbinary")
        assert websocket.recv(timeout=5) == b"\x00\xffbinary"


def test_items_with_token_and_q_over_a_real_socket(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/items/2/ws?q=3&token=some-token") as websocket:
        websocket.send("Message one")
        assert [websocket.recv(timeout=5) for _ in range(3)] == [
            "Session cookie or query token value is: some-token",
            "Query parameter q is: 3",
            "Message text was: Message one, for item ID: 2",
        ]


def test_items_with_cookie_over_a_real_socket(live_server: LiveServer) -> None:
    with connect(
        f"{live_server.ws_url}/items/foo/ws?token=ignored",
        additional_headers={"Cookie": "session=fakesession"},
    ) as websocket:
        websocket.send("Message one")
        assert [websocket.recv(timeout=5) for _ in range(2)] == [
            "Session cookie or query token value is: fakesession",
            "Message text was: Message one, for item ID: foo",
        ]


@pytest.mark.parametrize("query", ["", "?q=bar&token=t"])
def test_refusal_before_accept_is_http_403_over_a_real_socket(
    live_server: LiveServer, query: str
) -> None:
    with pytest.raises(InvalidStatus) as exc:
        connect(f"{live_server.ws_url}/items/foo/ws{query}")
    assert exc.value.response.status_code == 403


def test_refusal_code_and_reason_reach_a_negotiating_client(live_server: LiveServer) -> None:
    with connect(
        f"{live_server.ws_url}/items/foo/ws", subprotocols=[Subprotocol("realtime.text.v1")]
    ) as websocket:
        assert websocket.subprotocol == "realtime.text.v1"
        with pytest.raises(ConnectionClosedError) as exc:
            websocket.recv(timeout=5)
    assert exc.value.rcvd is not None
    assert exc.value.rcvd.code == 1008
    assert exc.value.rcvd.reason == (
        "missing credentials: set the session cookie or the token query parameter"
    )


def test_spa_and_api_on_one_port(live_server: LiveServer) -> None:
    page = httpx2.get(f"{live_server.http_url}/items", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.text == INDEX_HTML
    for accept in ["*/*", "text/html"]:
        missing = httpx2.get(f"{live_server.http_url}/assets/nope.js", headers={"accept": accept})
        assert missing.status_code == 404


def test_ordinary_disconnects_leave_no_traceback(live_server: LiveServer) -> None:
    for path in ["/ws", "/items/foo/ws?token=t"]:
        # a clean close, and an abrupt one in the middle of a conversation
        with connect(f"{live_server.ws_url}{path}") as websocket:
            websocket.send("bye")
        with connect(f"{live_server.ws_url}{path}") as websocket:
            websocket.send("gone")
            websocket.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the network died
    with connect(f"{live_server.ws_url}/ws") as websocket:  # still serving
        websocket.send("still here")
        assert websocket.recv(timeout=5) == "Message text was: still here"
    assert "Traceback" not in live_server.log()
    assert "ERROR" not in live_server.log()


JSON_V1 = [Subprotocol("realtime.json.v1")]


def test_json_protocol_over_a_real_socket(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/ws", subprotocols=JSON_V1) as websocket:
        assert websocket.subprotocol == "realtime.json.v1"
        assert json.loads(websocket.recv(timeout=5))["type"] == "welcome"
        websocket.send(json.dumps({"type": "ping", "id": "p1", "sent_at": 5.0}))
        assert json.loads(websocket.recv(timeout=5)) == {"type": "pong", "id": "p1", "sent_at": 5.0}
        websocket.send(json.dumps({"type": "text", "id": "m1", "text": "hi"}))
        assert json.loads(websocket.recv(timeout=5)) == {
            "type": "text",
            "text": "Message text was: hi",
            "reply_to": "m1",
        }


def test_malformed_input_leaves_other_clients_served(live_server: LiveServer) -> None:
    with (
        connect(f"{live_server.ws_url}/ws", subprotocols=JSON_V1) as hostile,
        connect(f"{live_server.ws_url}/ws", subprotocols=JSON_V1) as bystander,
    ):
        for websocket in (hostile, bystander):
            assert json.loads(websocket.recv(timeout=5))["type"] == "welcome"
        for raw in ["{not json", '{"type": "shout"}', '{"type": "text", "id": "x", "text": 1}']:
            hostile.send(raw)
            assert json.loads(hostile.recv(timeout=5))["type"] == "error"
        bystander.send(json.dumps({"type": "text", "id": "b", "text": "fine"}))
        assert json.loads(bystander.recv(timeout=5))["text"] == "Message text was: fine"
        hostile.send("x" * (64 * 1024 + 1))
        with pytest.raises(ConnectionClosedError) as exc:
            hostile.recv(timeout=5)
        assert exc.value.rcvd is not None
        assert exc.value.rcvd.code == 1009
        bystander.send(json.dumps({"type": "text", "id": "c", "text": "still fine"}))
        assert json.loads(bystander.recv(timeout=5))["text"] == "Message text was: still fine"
    assert "Traceback" not in live_server.log()


def test_binary_file_round_trips_byte_for_byte(live_server: LiveServer) -> None:
    payload = bytes(range(256)) * 64  # 16 KiB with every byte value
    with connect(f"{live_server.ws_url}/ws") as websocket:
        websocket.send(payload)
        assert websocket.recv(timeout=5) == payload


def test_items_refuse_binary_with_1003(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/items/foo/ws?token=t") as websocket:
        websocket.send(b"\x00")
        with pytest.raises(ConnectionClosedError) as exc:
            websocket.recv(timeout=5)
    assert exc.value.rcvd is not None
    assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (1003, "this endpoint takes text only")


def test_invalid_utf8_is_closed_with_1007_and_one_quiet_log_line(live_server: LiveServer) -> None:
    # A browser never sends this; a hand-made frame does: opcode text, masked, bytes FF FE.
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as raw:
        raw.sendall(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert raw.recv(1024).startswith(b"HTTP/1.1 101")
        mask = b"\x01\x02\x03\x04"
        payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(b"\xff\xfe"))
        raw.sendall(b"\x81\x82" + mask + payload)
        close_frame = raw.recv(1024)
    assert close_frame[0] == 0x88  # a close frame
    assert int.from_bytes(close_frame[2:4], "big") == 1007
    log = live_server.log()
    assert "client sent a text message that is not UTF-8: closed with 1007" in log
    assert "Traceback" not in log
    assert "ERROR" not in log
