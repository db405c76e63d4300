"""A client picks its own close code, and each distinct label value is a time series that
Prometheus (and the process) keeps for good: codes outside RFC 6455's registry are labelled
``other``. 200 distinct codes (3000-3099, 4000-4099) and some invalid ones sent as raw frames
leave ``realtime_disconnects_total`` with a handful of series, scraped from ``/metrics`` with
the operator's token.

Without it (867e375: the code as the label) the scrape below has over 200 series for ``/ws``.
"""

import asyncio
import contextlib
import struct

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testkit.waiting import wait_until
from tests.raw_client import handshake, raw_socket
from tests.servers import InProcessServer, ThreadServers

OPERATOR_TOKEN = "operator-token-for-the-bounds"
CODES = [*range(3000, 3100), *range(4000, 4100)]
# Not allowed on the wire (RFC 6455 7.4): the server answers them with a protocol error.
INVALID_CODES = [1004, 1016, 1100, 2000, 2999, 5000, 65535]
# RFC 6455's registry, and "other": the most label values a code may take.
KNOWN = {"1000", "1001", "1002", "1003", "1005", "1006", "1007", "1008", "1009", "1010"}
KNOWN |= {"1011", "1012", "1013", "1014", "1015"}


@pytest.fixture
def server(thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(metrics_token=SecretStr(OPERATOR_TOKEN))


def disconnect_series(server: InProcessServer) -> dict[tuple[str, str, str], float]:
    response = httpx2.get(
        f"{server.http_url}/metrics",
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        timeout=5,
    )
    response.raise_for_status()
    return {
        (sample.labels["endpoint"], sample.labels["code"], sample.labels["by"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "realtime_disconnects_total"
    }


def close_raw(server: InProcessServer, code: int) -> None:
    """A close frame with any code at all, masked as a client's must be."""
    with raw_socket(server) as sock:
        handshake(sock)
        mask = b"\x01\x02\x03\x04"
        payload = struct.pack("!H", code)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + masked)
        with contextlib.suppress(OSError):
            while sock.recv(4096):
                pass


async def test_two_hundred_client_close_codes_leave_a_bounded_number_of_series(
    server: InProcessServer,
) -> None:
    async def close_with(code: int) -> None:
        async with connect(f"{server.ws_url}/ws") as websocket:
            await websocket.send("hello")
            assert await websocket.recv() == "Message text was: hello"
            with contextlib.suppress(ConnectionClosed):
                await websocket.close(code=code, reason="bye")

    for start in range(0, len(CODES), 20):
        await asyncio.gather(*(close_with(code) for code in CODES[start : start + 20]))
    for code in INVALID_CODES:
        close_raw(server, code)

    def counted() -> float:
        series = disconnect_series(server)
        return sum(v for (endpoint, _, _), v in series.items() if endpoint == "/ws")

    wait_until(lambda: counted() >= len(CODES) + len(INVALID_CODES), 10, "every close counted")

    series = disconnect_series(server)
    on_ws = {key: count for key, count in series.items() if key[0] == "/ws"}
    assert sum(on_ws.values()) == len(CODES) + len(INVALID_CODES), on_ws
    labels = {code for _, code, _ in on_ws}
    assert labels <= KNOWN | {"other"}, sorted(labels - KNOWN)[:10]
    assert on_ws[("/ws", "other", "client")] == len(CODES)
    # A handful of series for all those codes: at most every label value, by either side.
    assert len(series) <= 2 * len(KNOWN | {"other"}) * 4
    assert len(on_ws) <= 4, on_ws
    # And the server serves on.
    with httpx2.Client() as client:
        assert client.get(f"{server.http_url}/api/health").status_code == 200
