"""The log after ordinary departures over real sockets: no errors, no tracebacks."""

import socket
import time
from pathlib import Path

from websockets.sync.client import connect

from app.settings import Settings
from tests.raw_client import UPGRADE, raw_socket
from tests.servers import serve_in_thread


def test_a_run_of_ordinary_departures_leaves_no_error_in_the_log(tmp_path: Path) -> None:
    with serve_in_thread(Settings(frontend_dir=tmp_path)) as server:
        for path in ["/ws", "/items/1/ws?token=t", "/ws/5", "/ws/6?room=quiet"]:
            with connect(f"{server.ws_url}{path}") as websocket:  # a clean close
                websocket.send("bye")
                websocket.recv(timeout=5)
            with connect(f"{server.ws_url}{path}") as websocket:  # the network dies mid-talk
                websocket.send("gone")
                websocket.socket.shutdown(socket.SHUT_RDWR)
            with raw_socket(server) as sock:  # a client that hangs up during its handshake
                sock.sendall(f"GET {path} HTTP/1.1\r\n{UPGRADE}".encode())
        time.sleep(0.3)
        log = server.log()
    assert "Traceback" not in log
    assert "ERROR" not in log
