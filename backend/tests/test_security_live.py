"""The security limits over real sockets, against uvicorn started by ``python -m app``.

Each test plays a hostile client from the issue's list and checks that it no longer works,
while an ordinary client next to it is still served.
"""

import asyncio
import base64
import contextlib
import os
import re
import signal
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from app.security.tokens import issue_token
from tests.conftest import INDEX_HTML, LiveServer, start_live_server, stop_live_server

TEXT_V1 = [Subprotocol("realtime.text.v1")]
SECRET = "live-test-secret"


def _frontend(folder: Path) -> Path:
    (folder / "dist" / "assets").mkdir(parents=True)
    (folder / "dist" / "index.html").write_text(INDEX_HTML)
    return folder / "dist"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The defaults, with the timeouts and the rate shortened so that tests run quickly."""
    folder = tmp_path_factory.mktemp("guarded")
    server = start_live_server(
        folder / "uvicorn.log",
        _frontend(folder),
        APP_LOG_LEVEL="info",  # as in production: the debug level dumps frames and headers
        APP_ALLOWED_ORIGINS="https://app.example",
        APP_REQUEST_HEAD_TIMEOUT="1",
        APP_WS_PING_INTERVAL="0.5",
        APP_WS_PING_TIMEOUT="0.5",
        APP_WS_MESSAGES_PER_SECOND="50",
        APP_WS_MESSAGE_BURST="20",
    )
    yield server
    stop_live_server(server)


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("signing")
    server = start_live_server(
        folder / "uvicorn.log",
        _frontend(folder),
        APP_TOKEN_SECRET=SECRET,
        APP_WS_PERMESSAGE_DEFLATE="true",
    )
    yield server
    stop_live_server(server)


def _closed_with(websocket_url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Connects with realtime.text.v1 and returns the code and reason the server closed with."""
    with (
        connect(websocket_url, subprotocols=TEXT_V1, additional_headers=headers) as websocket,
        pytest.raises(ConnectionClosedError) as exc,
    ):
        websocket.recv(timeout=5)
    assert exc.value.rcvd is not None
    return exc.value.rcvd.code, exc.value.rcvd.reason


def _open(url: str) -> ClientConnection:
    """A connection held open across a test's steps (closed by the test)."""
    return connect(url).__enter__()


def _raw(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# --- Origin ---------------------------------------------------------------------------------


def test_a_foreign_page_cannot_use_the_visitors_cookie(guarded: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as exc:
        connect(
            f"{guarded.ws_url}/items/1/ws",
            origin=Origin("http://evil.example"),
            additional_headers={"Cookie": "session=victims-secret"},
        )
    assert exc.value.response.status_code == 403
    assert "origin http://evil.example is not allowed" in guarded.log()
    assert "victims-secret" not in guarded.log()


@pytest.mark.parametrize("path", ["/ws", "/ws/7"])
def test_foreign_origin_refused_own_and_allowlisted_accepted(
    guarded: LiveServer, path: str
) -> None:
    with pytest.raises(InvalidStatus) as exc:
        connect(f"{guarded.ws_url}{path}", origin=Origin("http://evil.example"))
    assert exc.value.response.status_code == 403
    for origin in (f"http://127.0.0.1:{guarded.port}", "https://app.example"):
        with connect(f"{guarded.ws_url}{path}", origin=Origin(origin)) as websocket:
            websocket.send("hi")
            assert "hi" in str(websocket.recv(timeout=5))


# --- Credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "reason"),
    [
        ("?token=", None, "missing credentials"),
        ("?token=%20%20", None, "missing credentials"),
        ("", "session=", "missing credentials"),
        ("?token=" + "t" * 257, None, "credentials too long: at most 256 characters"),
        ("", "session=" + "s" * 257, "credentials too long: at most 256 characters"),
    ],
)
def test_empty_and_overlong_credentials_are_refused(
    guarded: LiveServer, query: str, cookie: str | None, reason: str
) -> None:
    headers = {"Cookie": cookie} if cookie else {}
    code, said = _closed_with(f"{guarded.ws_url}/items/1/ws{query}", headers)
    assert (code, said.split(":")[0]) == (1008, reason.split(":")[0])
    assert said.startswith(reason)
    with pytest.raises(InvalidStatus) as exc:  # a guide client: refused at the handshake
        connect(f"{guarded.ws_url}/items/1/ws{query}", additional_headers=headers)
    assert exc.value.response.status_code == 403


def test_query_tokens_never_reach_the_log(guarded: LiveServer) -> None:
    with connect(f"{guarded.ws_url}/items/1/ws?q=1&token=hunter2-not-for-logs") as websocket:
        websocket.send("hello")
        websocket.recv(timeout=5)
    httpx2.get(f"{guarded.http_url}/api/health?token=hunter2-http")
    time.sleep(0.2)
    log = guarded.log()
    assert "hunter2" not in log
    assert "token=[redacted]" in log


def test_signed_token_from_the_endpoint_is_accepted(signing: LiveServer) -> None:
    response = httpx2.post(f"{signing.http_url}/api/tokens", json={"subject": "alice"})
    assert response.status_code == 201
    token = response.json()["token"]
    with connect(f"{signing.ws_url}/items/1/ws?token={token}") as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: alice"
    with connect(
        f"{signing.ws_url}/items/1/ws", additional_headers={"Cookie": f"session={token}"}
    ) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: alice"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (issue_token(SECRET, "alice", -1).token, "token expired: get a new one"),
        (issue_token("not-the-secret", "alice", 60).token, "token signature is not valid"),
        ("some-token", "not a token issued by this server"),
    ],
)
def test_expired_forged_and_unsigned_tokens_are_refused(
    signing: LiveServer, token: str, reason: str
) -> None:
    assert _closed_with(f"{signing.ws_url}/items/1/ws?token={token}") == (1008, reason)


def test_without_a_secret_there_are_no_signed_tokens(guarded: LiveServer) -> None:
    response = httpx2.post(f"{guarded.http_url}/api/tokens", json={"subject": "alice"})
    assert response.status_code == 404
    assert "APP_TOKEN_SECRET is not set" in response.json()["detail"]


# --- Sizes and memory ----------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1))


def _handshake(sock: socket.socket, path: str = "/ws") -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head


def _close_frame(data: bytes) -> tuple[int, bytes]:
    """The code and reason of the first close frame in what the server sent."""
    at = data.index(b"\x88")
    length = data[at + 1]
    code = struct.unpack("!H", data[at + 2 : at + 4])[0]
    return code, data[at + 4 : at + 2 + length]


def test_an_oversized_message_is_refused_on_its_header_alone(guarded: LiveServer) -> None:
    with _raw(guarded) as sock:
        _handshake(sock)
        # A binary frame that announces 16 MiB; not one byte of its payload is sent.
        sock.sendall(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 16 * 1024 * 1024) + b"mask")
        code, reason = _close_frame(_read_all(sock))
    assert (code, reason) == (1009, b"frame with 16777216 bytes exceeds limit of 65536 bytes")
    time.sleep(0.2)
    assert "1009 frame with 16777216 bytes exceeds limit of 65536 bytes" in guarded.log()


def test_oversized_messages_leave_the_servers_memory_unchanged(guarded: LiveServer) -> None:
    before = _rss_kib(guarded.process.pid)
    for _ in range(8):  # 8 x 16 MiB: uvicorn's own limit would have buffered every one
        # The server closes while the client is still sending: no clean close to read.
        with (
            connect(f"{guarded.ws_url}/ws", max_size=None) as websocket,
            contextlib.suppress(ConnectionClosed),
        ):
            websocket.send(b"\x00" * (16 * 1024 * 1024))
            websocket.recv(timeout=5)
    grown = _rss_kib(guarded.process.pid) - before
    assert grown < 8 * 1024, f"the server grew by {grown} KiB"
    with connect(f"{guarded.ws_url}/ws") as websocket:  # 64 KiB is still fine
        websocket.send(b"\x01" * 65536)
        assert websocket.recv(timeout=5) == b"\x01" * 65536


def test_permessage_deflate_is_off_unless_turned_on(
    guarded: LiveServer, signing: LiveServer
) -> None:
    # The websockets client offers permessage-deflate, as every browser does.
    with connect(f"{guarded.ws_url}/ws") as websocket:
        assert websocket.response is not None
        assert "Sec-WebSocket-Extensions" not in websocket.response.headers
    with connect(f"{signing.ws_url}/ws") as websocket:  # APP_WS_PERMESSAGE_DEFLATE=true
        assert websocket.response is not None
        assert "permessage-deflate" in websocket.response.headers["Sec-WebSocket-Extensions"]


# --- Rate ------------------------------------------------------------------------------------


def test_a_flooding_client_is_throttled_and_others_keep_their_round_trips(
    guarded: LiveServer,
) -> None:
    async def scenario() -> tuple[int, int]:
        flooded = 0
        async with async_connect(f"{guarded.ws_url}/ws") as flooder:

            async def flood() -> None:
                for index in range(5000):
                    await flooder.send(f"flood {index}")

            async def count_replies() -> None:
                nonlocal flooded
                async for _ in flooder:
                    flooded += 1

            tasks = [asyncio.create_task(flood()), asyncio.create_task(count_replies())]
            await asyncio.sleep(0.2)  # the flood is under way
            answered = 0
            async with async_connect(f"{guarded.ws_url}/ws") as other:
                # Each round trip may take 0.5 s at most: a bound, not a measurement.
                for index in range(20):
                    await other.send(f"ping {index}")
                    try:
                        reply = await asyncio.wait_for(other.recv(), 0.5)
                    except TimeoutError:
                        break
                    assert reply == f"Message text was: ping {index}"
                    answered += 1
            seen = flooded
            for task in tasks:
                task.cancel()
            return answered, seen

    started = time.monotonic()
    answered, flooded = asyncio.run(scenario())
    elapsed = time.monotonic() - started
    assert answered == 20
    # 50 messages/s after a burst of 20: far fewer replies than the 5,000 sent.
    assert flooded <= 20 + 50 * elapsed + 10, (flooded, elapsed)
    assert "throttling a client of /ws: over 50 messages/s" in guarded.log()


# --- Connection cap ----------------------------------------------------------------------------


def test_connections_beyond_the_cap_get_503_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    server = start_live_server(
        tmp_path / "uvicorn.log", _frontend(tmp_path), APP_MAX_CONNECTIONS="3"
    )
    try:
        held = [_open(f"{server.ws_url}/ws") for _ in range(3)]
        with pytest.raises(InvalidStatus) as exc:
            connect(f"{server.ws_url}/ws")
        assert exc.value.response.status_code == 503
        assert b"too many connections" in exc.value.response.body
        assert httpx2.get(f"{server.http_url}/api/health").status_code == 200
        held.pop().close()
        deadline = time.monotonic() + 5
        while True:  # the server notices the close a moment later
            try:
                held.append(_open(f"{server.ws_url}/ws"))
                break
            except InvalidStatus:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for websocket in held:
            websocket.close()
        assert "Traceback" not in server.log()
    finally:
        stop_live_server(server)


# --- Timeouts and malformed requests ------------------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed(guarded: LiveServer) -> None:
    with _raw(guarded) as sock:
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


def test_a_handshake_trickled_too_slowly_is_closed(guarded: LiveServer) -> None:
    with _raw(guarded) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        answer = _read_all(sock)  # the rest of the headers never come
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


def test_a_kept_alive_connection_still_serves_a_second_request(guarded: LiveServer) -> None:
    with httpx2.Client() as client:  # one connection, two requests, a pause between them
        assert client.get(f"{guarded.http_url}/api/health").status_code == 200
        time.sleep(0.5)
        assert client.get(f"{guarded.http_url}/api/health").status_code == 200


UPGRADE = (
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


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
    guarded: LiveServer, request_head: str, status: bytes
) -> None:
    with _raw(guarded) as sock:
        sock.sendall(request_head.encode())
        answer = _read_all(sock)
    assert answer.split(b" ")[1] == status, answer[:100]


def test_a_peer_that_stops_answering_pings_is_closed(guarded: LiveServer) -> None:
    with _raw(guarded) as sock:
        _handshake(sock)
        frames = _read_all(sock)  # never a pong: a dead peer, as far as the server knows
    assert frames[0] == 0x89  # a ping came
    assert _close_frame(frames) == (1011, b"keepalive ping timeout")


# --- Quiet logs, headers ------------------------------------------------------------------------


def test_a_run_of_ordinary_departures_leaves_no_error_in_the_log(guarded: LiveServer) -> None:
    for path in ["/ws", "/items/1/ws?token=t", "/ws/5", "/ws/6?room=quiet"]:
        with connect(f"{guarded.ws_url}{path}") as websocket:  # a clean close
            websocket.send("bye")
            websocket.recv(timeout=5)
        with connect(f"{guarded.ws_url}{path}") as websocket:  # the network dies mid-talk
            websocket.send("gone")
            websocket.socket.shutdown(socket.SHUT_RDWR)
        with _raw(guarded) as sock:  # a client that hangs up during its handshake
            sock.sendall(f"GET {path} HTTP/1.1\r\n{UPGRADE}".encode())
    time.sleep(0.3)
    log = guarded.log()
    assert "Traceback" not in log
    assert "ERROR" not in log


def test_pages_carry_security_headers(guarded: LiveServer) -> None:
    headers = httpx2.get(f"{guarded.http_url}/items").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "connect-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"


# --- Restarts ----------------------------------------------------------------------------------


def _close_code_after_draining(websocket: ClientConnection) -> int | None:
    """Reads what is left (a chat's notices, say) until the server closes."""
    try:
        while True:
            websocket.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_sigterm_drains_then_closes_sockets_with_1012_and_exits(tmp_path: Path) -> None:
    server = start_live_server(
        tmp_path / "uvicorn.log", _frontend(tmp_path), APP_SHUTDOWN_DRAIN_SECONDS="1"
    )
    try:
        echo = _open(f"{server.ws_url}/ws")
        chat = _open(f"{server.ws_url}/ws/1")
        assert httpx2.get(f"{server.http_url}/api/ready").json() == {"ready": True}
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        ready = httpx2.get(f"{server.http_url}/api/ready")  # still serving, but draining
        assert (ready.status_code, ready.json()) == (503, {"ready": False})
        echo.send("still answered while draining")
        assert echo.recv(timeout=5) == "Message text was: still answered while draining"
        for websocket in (echo, chat):
            assert _close_code_after_draining(websocket) == 1012
        server.process.wait(timeout=15)  # a hang guard, not a measurement
        assert "Traceback" not in server.log()
    finally:
        stop_live_server(server)
