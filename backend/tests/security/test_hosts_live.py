"""The Host allowlist over real sockets: what DNS rebinding needs, refused."""

from pathlib import Path

import httpx2
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from app.security.hosts import host_name
from app.settings import Settings
from tests.servers import InProcessServer, ThreadServers, serve_in_thread


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8000", "[::1]:8000"])
def test_this_machines_names_are_served_by_default(server: InProcessServer, host: str) -> None:
    response = httpx2.get(f"{server.http_url}/api/health", headers={"Host": host})
    assert response.status_code == 200


def test_a_rebound_name_is_refused_over_http_and_websocket(server: InProcessServer) -> None:
    rebound = {"Host": "attacker.example"}
    response = httpx2.get(f"{server.http_url}/api/health", headers=rebound)
    assert response.status_code == 400
    assert "APP_ALLOWED_HOSTS" in response.text
    with pytest.raises(InvalidStatus) as refused:
        # The Origin matches the Host, as a rebound page's would: only the Host gives it away.
        connect(
            f"{server.ws_url}/ws",
            additional_headers=rebound,
            origin=Origin("http://attacker.example"),
        )
    assert refused.value.response.status_code == 403
    with connect(f"{server.ws_url}/ws") as echo:  # and the server serves on
        echo.send("still here")
        assert echo.recv(timeout=5) == "Message text was: still here"


def test_named_hosts_are_served_and_the_loopback_defaults_are_then_theirs(tmp_path: Path) -> None:
    settings = Settings(frontend_dir=tmp_path, allowed_hosts=["app.example", "127.0.0.1"])
    with serve_in_thread(settings) as named:
        served = httpx2.get(f"{named.http_url}/api/health", headers={"Host": "app.example"})
        assert served.status_code == 200
        other = httpx2.get(f"{named.http_url}/api/health", headers={"Host": "localhost"})
        assert other.status_code == 400


def test_host_names_lose_their_port() -> None:
    assert host_name("Example.COM:443") == "example.com"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("") == ""
    assert Settings(allowed_hosts="a.example, B.example").allowed_hosts == [  # type: ignore[arg-type]
        "a.example",
        "b.example",
    ]
