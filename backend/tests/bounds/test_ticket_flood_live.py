"""Ticket issuance under a flood, against ``python -m app``: 14 KB Origin headers are refused
(403) and the process's resident memory stays flat; an allowed origin asking at more than
the rate limit (APP_TICKETS_PER_SECOND, bursts of four times as many) is answered 429 with
Retry-After, whatever credential it sends, and is served again after that wait.

Without the bounds (867e375: no rate limit, and each ticket kept the raw Origin header) every
request here is answered 201 and keeps its 14 KB for the ticket's lifetime and a minute: the
process grows by tens of MiB in these few seconds, and the test fails on that growth.
"""

import threading
import time
from collections import Counter

import httpx2
import pytest

from testkit.processes import rss_kib
from tests.servers import LiveServer, ProcessServers

PAGE = "https://app.example"
HUGE = "https://" + "a" * 14_000 + ".example"  # within the 16 KiB a request head may have
PER_SECOND = 5  # APP_TICKETS_PER_SECOND: bursts of 20
FLOOD_SECONDS = 4.0
THREADS = 4
RSS_GROWTH_BOUND_KIB = 4 * 1024


@pytest.fixture(scope="module")
def server(module_process_servers: ProcessServers) -> LiveServer:
    return module_process_servers.start(
        clean_log=True,
        APP_LOG_LEVEL="warning",
        APP_ALLOWED_ORIGINS=PAGE,
        APP_TICKETS_PER_SECOND=str(PER_SECOND),
    )


def flood(
    server: LiveServer, origin: str, seconds: float, refused: list[httpx2.Response] | None = None
) -> Counter[int]:
    """Tickets asked for from several connections at once for ``seconds``, each time with
    another credential (as an attacker would, to slip past a limit per subject): the
    statuses; the answers other than 201 and 403 go in ``refused``."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def ask(thread: int) -> None:
        with httpx2.Client(base_url=server.http_url, timeout=10) as client:
            n = 0
            while time.monotonic() < until:
                n += 1
                response = client.post(
                    "/api/ws-tickets",
                    json={"endpoint": "/ws/1"},
                    headers={"Cookie": f"session=user-{thread}-{n}", "Origin": origin},
                )
                with lock:
                    statuses[response.status_code] += 1
                    if refused is not None and response.status_code not in (201, 403):
                        refused.append(response)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_big_origins_are_refused_and_memory_stays_flat(server: LiveServer) -> None:
    flood(server, HUGE, 0.5)  # warms up the server's buffers
    baseline = rss_kib(server.process.pid)
    statuses = flood(server, HUGE, FLOOD_SECONDS)
    grown = rss_kib(server.process.pid) - baseline
    assert grown < RSS_GROWTH_BOUND_KIB, f"the server grew by {grown} KiB ({statuses})"
    assert set(statuses) == {403}, statuses
    assert statuses[403] > 100  # a flood, not a trickle (some 1,000 on an idle machine)
    refused = httpx2.post(
        f"{server.http_url}/api/ws-tickets",
        json={"endpoint": "/ws/1"},
        headers={"Cookie": "session=s", "Origin": HUGE},
    )
    assert refused.json()["detail"] == "this page's origin may not open sockets on this server"


def test_allowed_origin_tickets_beyond_the_rate_get_429_with_retry_after(
    server: LiveServer,
) -> None:
    url = f"{server.http_url}/api/ws-tickets"
    baseline = rss_kib(server.process.pid)
    refused: list[httpx2.Response] = []
    started = time.monotonic()
    statuses = flood(server, PAGE, 2.0, refused)
    elapsed = time.monotonic() - started
    # The burst, and the rate meanwhile (plus one for a token refilled at the edge), though
    # every request came with a credential of its own: the address has its limit.
    assert 4 * PER_SECOND <= statuses[201] <= 4 * PER_SECOND + elapsed * PER_SECOND + 1, statuses
    assert set(statuses) == {201, 429}, statuses
    assert statuses[429] > 20  # some 300 on an idle machine
    answer = refused[-1]
    assert answer.json()["detail"] == "too many tickets asked for: try again in a moment"
    wait = int(answer.headers["retry-after"])
    assert 1 <= wait <= 2
    time.sleep(wait)
    again = httpx2.post(
        url, json={"endpoint": "/ws/1"}, headers={"Cookie": "session=s", "Origin": PAGE}
    )
    assert again.status_code == 201, again.text
    grown = rss_kib(server.process.pid) - baseline
    # Looser than for the refused origins: the first tickets issued warm up their own path
    # (one full run under a load of 14 failed here, once, for reasons not captured).
    assert grown < 2 * RSS_GROWTH_BOUND_KIB, f"the server grew by {grown} KiB"
