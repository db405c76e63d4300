"""SIGTERM as a deploy sends it, to ``python -m app`` in a process of its own."""

import signal
import time

import httpx2
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from tests.raw_client import open_connection
from tests.servers import ProcessServers


def _close_code_after_draining(websocket: ClientConnection) -> int | None:
    """Reads what is left (a chat's notices, say) until the server closes."""
    try:
        while True:
            websocket.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_sigterm_drains_then_closes_sockets_with_1012_and_exits(
    process_servers: ProcessServers,
) -> None:
    server = process_servers.start(APP_SHUTDOWN_DRAIN_SECONDS="1")
    echo = open_connection(f"{server.ws_url}/ws")
    chat = open_connection(f"{server.ws_url}/ws/1")
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
