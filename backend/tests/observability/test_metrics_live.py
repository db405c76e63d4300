"""/metrics after a scripted mix of traffic: each counter says what the script did, also when
two workers share the traffic; and who may read it."""

import json
import socket
import time
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from app.settings import Settings
from testkit.processes import RedisServer
from tests.raw_client import UPGRADE
from tests.servers import LiveServer, ProcessServers, serve_in_thread

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
OPERATOR_TOKEN = "operator-token-for-the-tests"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def scrape(url: str) -> Samples:
    response = httpx2.get(f"{url}/metrics", headers=AS_OPERATOR, timeout=5)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(params=[1, 2], ids=["one worker", "two workers"])
def server(
    request: pytest.FixtureRequest, redis_server: RedisServer, process_servers: ProcessServers
) -> LiveServer:
    return process_servers.start(
        APP_WORKERS=str(request.param),
        APP_REDIS_URL=redis_server.url,
        APP_CHAT_OUTBOX_LIMIT="16",
        APP_LOG_LEVEL="info",
        APP_METRICS_TOKEN=OPERATOR_TOKEN,
    )


def test_metrics_count_what_a_scripted_mix_of_traffic_did(server: LiveServer) -> None:
    before = scrape(server.http_url)
    # Ten echoes, each a message in and one out.
    with connect(f"{server.ws_url}/ws") as echo:
        for number in range(10):
            echo.send(f"echo {number}")
            assert echo.recv(timeout=5) == f"Message text was: echo {number}"
    # Three guide clients without credentials, refused at the handshake.
    for _ in range(3):
        with pytest.raises(InvalidStatus):
            connect(f"{server.ws_url}/items/1/ws")
    # Two pages of another site.
    for _ in range(2):
        with pytest.raises(InvalidStatus):
            connect(f"{server.ws_url}/ws", origin=Origin("http://evil.example"))
    # A chat client that never reads while another talks: it is dropped, once.
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", server.port))
    stuck.sendall(f"GET /ws/666 HTTP/1.1\r\n{UPGRADE}\r\n".encode())
    time.sleep(0.5)
    with connect(f"{server.ws_url}/ws/1") as talker:
        text = "x" * 16_000
        deadline = time.monotonic() + 30
        while "did not keep up" not in server.log():
            assert time.monotonic() < deadline, "the stuck client was never dropped"
            talker.send(text)
            talker.recv(timeout=5)
            talker.recv(timeout=5)
    stuck.close()
    time.sleep(2.5)  # the counts reach prometheus-client once a second

    after = scrape(server.http_url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("realtime_messages_received_total", endpoint="/ws") == 10
    assert grew("realtime_messages_sent_total", endpoint="/ws") == 10
    assert grew("realtime_received_bytes_total", endpoint="/ws") == sum(
        len(f"echo {n}") for n in range(10)
    )
    assert grew("realtime_sent_bytes_total", endpoint="/ws") == sum(
        len(f"Message text was: echo {n}") for n in range(10)
    )
    assert grew("realtime_disconnects_total", endpoint="/ws", code="1000", by="client") == 1
    assert grew("realtime_handshake_refusals_total", reason="credentials") == 3
    assert grew("realtime_handshake_refusals_total", reason="origin") == 2
    assert grew("realtime_chat_outbox_drops_total") == 1
    assert (
        grew("realtime_disconnects_total", endpoint="/ws/{client_id}", code="1013", by="server")
        == 1
    )
    assert value(after, "realtime_connections_open", endpoint="/ws", subprotocol="none") == 0
    assert value(after, "realtime_broker_connected") == 1
    assert grew("realtime_broadcast_seconds_count") > 0
    # Bounded labels: no room name, no client id, no path with an id in it.
    names = {labels for (_, labels) in after}
    assert not any("666" in str(labels) or "general" in str(labels) for labels in names)


def test_the_live_page_pushes_numbers_every_second(tmp_path: Path) -> None:
    settings = Settings(frontend_dir=tmp_path, metrics_token=SecretStr(OPERATOR_TOKEN))
    with serve_in_thread(settings) as server:
        live = connect(f"{server.ws_url}/api/live", additional_headers=AS_OPERATOR)
        with live, connect(f"{server.ws_url}/ws") as echo:
            echo.send("counted")
            echo.recv(timeout=5)
            with (
                pytest.raises(InvalidStatus),
                connect(f"{server.ws_url}/ws", origin=Origin("http://evil.example")),
            ):
                pass
            with pytest.raises(InvalidStatus):  # no credential: refused by the route itself
                connect(f"{server.ws_url}/items/secret-item-666/ws")
            first = json.loads(live.recv(timeout=5))
            second = json.loads(live.recv(timeout=5))
            by_endpoint = {e["endpoint"]: e for e in second["endpoints"]}
            assert by_endpoint["/ws"]["open"] == 1
            assert first["broker"] == {"kind": "memory", "connected": True}
            # By the route's template, as the metrics count them: not the path a client chose.
            assert [(r["what"], r["endpoint"]) for r in second["refusals"]] == [
                ("credentials", "/items/{item_id}/ws"),  # the newest first
                ("origin", "/ws"),
            ]
            echo.close()
            # The page follows: the echo socket is gone, and its departure is listed.
            deadline = time.monotonic() + 5
            while True:
                stats = json.loads(live.recv(timeout=5))
                by_endpoint = {e["endpoint"]: e for e in stats["endpoints"]}
                if by_endpoint["/ws"]["open"] == 0:
                    break
                assert time.monotonic() < deadline, "the closed echo socket is still counted"
            assert stats["disconnects"][0]["what"] == "1000 by client"
