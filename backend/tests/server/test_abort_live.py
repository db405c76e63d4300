"""A connection the app aborts (``app.transport``'s ``abort``) is reset, over a real socket.

A chat client that stops reading is closed with 1013 and, when it does not take even the close
frame, cut off so that its buffers are freed. A plain close would free only the process's: the
kernel would keep the megabytes queued for the client, retrying them from FIN-WAIT-1 for as long
as the client's window stays shut. A reset frees them at once."""

import socket
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from app.channels.slow import SLOW_CLIENT_GRACE
from app.settings import Settings
from tests.raw_client import handshake
from tests.servers import InProcessServer, serve_in_thread

FIN_WAIT_1 = "04"  # the state column of /proc/net/tcp


def server_sockets_in(state: str, port: int) -> list[str]:
    """The kernel's sockets on the server's side of ``port`` in ``state``, IPv4 and IPv6."""
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state:
                found.append(line.strip())
    return found


def how_the_connection_ends(sock: socket.socket) -> str:
    """For the client, reading what is left: "reset", or "closed" once all of it came."""
    sock.settimeout(2)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            if not sock.recv(1 << 20):
                return "closed"
    except ConnectionResetError:
        return "reset"
    except TimeoutError:
        return "silent, neither closed nor reset"
    return "still receiving after 10 s"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_a_chat_client_that_stops_reading_is_reset_a_grace_after_its_1013_and_freed(
    tmp_path: Path,
) -> None:
    settings = Settings(
        frontend_dir=tmp_path,
        chat_outbox_limit=16,
        ws_messages_per_second=10_000,
        ws_message_burst=10_000,
    )
    with serve_in_thread(settings) as server:
        stalled = socket.create_connection(("127.0.0.1", server.port))
        # A small window: the server's kernel soon holds what the client does not take.
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(10)
        try:
            handshake(stalled, "/ws/666?room=reset")  # and then it reads nothing
            seconds_to_the_cut = flood_until_cut_off(server)
            time.sleep(0.2)  # the cut reaches the kernel
            assert server_sockets_in(FIN_WAIT_1, server.port) == []
            assert how_the_connection_ends(stalled) == "reset"
            # One grace from the 1013 to the cut, not one to send the close and one more.
            assert SLOW_CLIENT_GRACE - 0.1 < seconds_to_the_cut < SLOW_CLIENT_GRACE + 0.5
        finally:
            stalled.close()
        with connect(f"{server.ws_url}/ws/2?room=reset") as websocket:  # still serving
            websocket.send("still here")
            assert websocket.recv(timeout=5) == "You wrote: still here"
    log = server.log()
    assert "/ws/666: a subscriber of 'chat:reset' did not keep up" in log
    assert "Traceback" not in log


def flood_until_cut_off(server: InProcessServer) -> float:
    """Floods the room until the client that reads nothing is cut off; the seconds from its
    1013 ("did not keep up") to the cut, as seen in the log."""
    text = "x" * 16_000  # within the 16,384 characters a message may have
    with connect(f"{server.ws_url}/ws/1?room=reset") as talker:
        for number in range(2000):
            talker.send(f"{number} {text}")
            talker.recv(timeout=5)  # You wrote: …
            talker.recv(timeout=5)  # Client #1 says: …, to everyone in the room
            if "did not keep up" in server.log():
                break
        closing = time.monotonic()
        while "took no close frame: connection aborted" not in server.log():
            assert time.monotonic() < closing + 5, "the client that reads nothing was never cut"
            time.sleep(0.02)
        return time.monotonic() - closing
