"""The Origin check over real sockets: what a foreign page's script would try."""

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.servers import InProcessServer, ThreadServers


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(allowed_origins=["https://app.example"])


def test_a_foreign_page_cannot_use_the_visitors_cookie(server: InProcessServer) -> None:
    with pytest.raises(InvalidStatus) as exc:
        connect(
            f"{server.ws_url}/items/1/ws",
            origin=Origin("http://evil.example"),
            additional_headers={"Cookie": "session=victims-secret"},
        )
    assert exc.value.response.status_code == 403
    assert "origin http://evil.example is not allowed" in server.log()
    assert "victims-secret" not in server.log()


@pytest.mark.parametrize("path", ["/ws", "/ws/7"])
def test_foreign_origin_refused_own_and_allowlisted_accepted(
    server: InProcessServer, path: str
) -> None:
    with pytest.raises(InvalidStatus) as exc:
        connect(f"{server.ws_url}{path}", origin=Origin("http://evil.example"))
    assert exc.value.response.status_code == 403
    # The guide's first answer on each: the echo's, or the chat's own echo to its sender.
    expected = "Message text was: hi" if path == "/ws" else "You wrote: hi"
    for origin in (f"http://127.0.0.1:{server.port}", "https://app.example"):
        with connect(f"{server.ws_url}{path}", origin=Origin(origin)) as websocket:
            websocket.send("hi")
            assert websocket.recv(timeout=5) == expected
