"""The transport's limits over real sockets, set by an app built in this process.

Each limit is handed from ``create_app(settings)`` to uvicorn's protocol classes: a small cap
or timeout here is the same road as ``APP_MAX_CONNECTIONS`` or ``APP_REQUEST_HEAD_TIMEOUT``.
"""

import time

import httpx2
import pytest
from pydantic import SecretStr
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.raw_client import (
    UPGRADE,
    close_frame,
    handshake,
    open_connection,
    raw_socket,
    read_all,
)
from tests.servers import InProcessServer, ThreadServers

METRICS_TOKEN = "metrics-token-for-the-protocol-tests"


def request_head_refusals(server: InProcessServer) -> float:
    """What /metrics counts as handshakes refused for their request head."""
    metrics = httpx2.get(
        f"{server.http_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    metrics.raise_for_status()
    for line in metrics.text.splitlines():
        if line.startswith('realtime_handshake_refusals_total{reason="request_head"}'):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    """Short timeouts, so that the tests run quickly."""
    return module_thread_servers.start(
        request_head_timeout=1,
        ws_ping_interval=0.5,
        ws_ping_timeout=0.5,
        max_connections=3,
        metrics_token=SecretStr(METRICS_TOKEN),  # operator access that does not hang on an address
    )


def test_connections_beyond_the_cap_get_503_and_the_server_keeps_serving(
    server: InProcessServer,
) -> None:
    held = [open_connection(f"{server.ws_url}/ws") for _ in range(3)]
    with pytest.raises(InvalidStatus) as exc:
        connect(f"{server.ws_url}/ws")
    assert exc.value.response.status_code == 503
    assert b"too many connections" in exc.value.response.body
    assert httpx2.get(f"{server.http_url}/api/health").status_code == 200
    held.pop().close()
    deadline = time.monotonic() + 5
    while True:  # the server notices the close a moment later
        try:
            held.append(open_connection(f"{server.ws_url}/ws"))
            break
        except InvalidStatus:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    for websocket in held:
        websocket.close()
    assert "Traceback" not in server.log()


def test_a_connection_that_sends_nothing_is_closed_quietly_and_is_no_refusal(
    server: InProcessServer,
) -> None:
    # A browser's preconnection, never used: it asked nothing, so nothing is answered, and
    # counting it as a refused request would show every idle browser as an attack.
    refused_before = request_head_refusals(server)
    with raw_socket(server) as sock:
        started = time.monotonic()
        answer = read_all(sock)
    assert answer == b""
    assert 0.9 < time.monotonic() - started < 5  # closed at the head timeout (1 s here)
    assert request_head_refusals(server) == refused_before


def test_a_handshake_trickled_too_slowly_is_refused_with_408(server: InProcessServer) -> None:
    refused_before = request_head_refusals(server)
    with raw_socket(server) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        answer = read_all(sock)  # the rest of the headers never come
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
    assert request_head_refusals(server) == refused_before + 1


def test_a_kept_alive_connection_still_serves_a_second_request(server: InProcessServer) -> None:
    with httpx2.Client() as client:  # one connection, two requests, a pause between them
        assert client.get(f"{server.http_url}/api/health").status_code == 200
        time.sleep(0.5)
        assert client.get(f"{server.http_url}/api/health").status_code == 200


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (f"GET /items/{'a' * 8192}/ws?token=t HTTP/1.1\r\n{UPGRADE}\r\n", b"414"),
        (f"GET /items/1/ws?token=t HTTP/1.1\r\n{UPGRADE}X-Long: {'b' * 9000}\r\n\r\n", b"431"),
        (f"GET /{'a' * 20000} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"414"),
        (f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: {'b' * 20000}\r\n\r\n", b"431"),
    ],
)
def test_oversized_request_heads_get_4xx_and_a_closed_socket(
    server: InProcessServer, request_head: str, status: bytes
) -> None:
    with raw_socket(server) as sock:
        sock.sendall(request_head.encode())
        answer = read_all(sock)
    assert answer.split(b" ")[1] == status, answer[:100]


def test_a_peer_that_stops_answering_pings_is_closed(server: InProcessServer) -> None:
    with raw_socket(server) as sock:
        handshake(sock)
        frames = read_all(sock)  # never a pong: a dead peer, as far as the server knows
    assert frames[0] == 0x89  # a ping came
    assert close_frame(frames) == (1011, b"keepalive ping timeout")
