"""One access road by role, over real sockets: what each credential may open, and what an
address alone never does (also through a real nginx on the same host, configured as the
README says)."""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.security.credentials import MISSING_CREDENTIALS, MISSING_HTTP_CREDENTIALS
from app.security.tokens import issue_token
from app.settings import REPOSITORY_ROOT, Settings
from testkit.nginx import NginxMissing, NginxProxy
from tests.raw_client import closed_with
from tests.servers import (
    InProcessServer,
    LiveServer,
    ProcessServers,
    ThreadServers,
    serve_in_thread,
)

OPERATOR_TOKEN = "operator-token-of-the-access-tests"
SECRET = "access-test-secret-of-thirty-two-chars"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
LIVE_TICKET = {"endpoint": "/api/live"}


@pytest.fixture(scope="module")
def plain(module_thread_servers: ThreadServers) -> InProcessServer:
    """The guide's credentials (any non-empty one is a user's), and an operator token."""
    return module_thread_servers.start(metrics_token=SecretStr(OPERATOR_TOKEN))


@pytest.fixture(scope="module")
def signing(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(token_secret=SecretStr(SECRET), dev_token_minting=True)


def live_stats(url: str) -> dict[str, object]:
    with connect(url) as live:
        stats: dict[str, object] = json.loads(live.recv(timeout=5))
    return stats


@pytest.mark.parametrize(
    "credential",
    [{"Cookie": "session=anyone"}, {"Authorization": "Bearer x"}, {}],
    ids=["a session cookie", "any bearer", "nothing"],
)
def test_a_users_credential_opens_neither_metrics_nor_the_live_page(
    plain: InProcessServer, credential: dict[str, str]
) -> None:
    metrics = httpx2.get(f"{plain.http_url}/metrics", headers=credential)
    assert metrics.status_code == (403 if credential else 401)
    ticket = httpx2.post(f"{plain.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=credential)
    assert ticket.status_code == (403 if credential else 401)
    if credential:
        assert ticket.json()["detail"] == (
            "/api/live needs the operator role, which the credential lacks"
        )
    code, reason = closed_with(f"{plain.ws_url}/api/live", credential)
    assert code == 1008
    assert "operator role" in reason or "missing credentials" in reason
    with pytest.raises(InvalidStatus) as refused:  # a guide client: refused at the handshake
        connect(f"{plain.ws_url}/api/live", additional_headers=credential)
    assert refused.value.response.status_code == 403


def test_the_operator_token_opens_metrics_and_the_live_page_through_a_ticket(
    plain: InProcessServer,
) -> None:
    assert httpx2.get(f"{plain.http_url}/metrics", headers=AS_OPERATOR).status_code == 200
    response = httpx2.post(
        f"{plain.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=AS_OPERATOR
    )
    assert response.status_code == 201, response.text
    stats = live_stats(f"{plain.ws_url}/api/live?ticket={response.json()['ticket']}")
    assert stats["type"] == "server_stats"
    # The operator token is not a user's: it opens no user's endpoint.
    items = httpx2.post(
        f"{plain.http_url}/api/ws-tickets", json={"endpoint": "/items/1/ws"}, headers=AS_OPERATOR
    )
    assert items.status_code == 403
    assert OPERATOR_TOKEN not in plain.log()


def test_signed_tokens_carry_roles_and_minting_one_needs_no_login_only_in_development(
    signing: InProcessServer, tmp_path: Path
) -> None:
    minted = httpx2.post(f"{signing.http_url}/api/tokens", json={"subject": "mallory"})
    assert minted.status_code == 201
    assert minted.json()["roles"] == ["user"]
    greedy = httpx2.post(
        f"{signing.http_url}/api/tokens", json={"subject": "mallory", "roles": ["operator"]}
    )
    assert greedy.status_code == 422
    as_mallory = {"Authorization": f"Bearer {minted.json()['token']}"}
    ticket = httpx2.post(f"{signing.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=as_mallory)
    assert ticket.status_code == 403
    # What `python -m app token ops --role operator` prints.
    operator = issue_token(SECRET, "ops", 60, roles=("operator",)).token
    as_ops = {"Authorization": f"Bearer {operator}"}
    assert httpx2.get(f"{signing.http_url}/metrics", headers=as_ops).status_code == 200
    ticket = httpx2.post(f"{signing.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=as_ops)
    assert ticket.status_code == 201
    assert live_stats(f"{signing.ws_url}/api/live?ticket={ticket.json()['ticket']}")["type"] == (
        "server_stats"
    )
    # Off by default: a server that signs tokens mints none without a login.
    settings = Settings(frontend_dir=tmp_path, token_secret=SecretStr(SECRET))
    with serve_in_thread(settings) as production:
        refused = httpx2.post(f"{production.http_url}/api/tokens", json={"subject": "mallory"})
        assert refused.status_code == 404
        assert "APP_DEV_TOKEN_MINTING" in refused.json()["detail"]


ITEMS_TICKET = {"endpoint": "/items/1/ws"}


def test_loopback_is_an_operator_only_when_the_setting_says_so_and_never_through_a_proxy(
    plain: InProcessServer, tmp_path: Path
) -> None:
    assert httpx2.get(f"{plain.http_url}/metrics").status_code == 401
    settings = Settings(frontend_dir=tmp_path, operator_on_loopback=True)
    with serve_in_thread(settings) as development:
        assert httpx2.get(f"{development.http_url}/metrics").status_code == 200
        assert live_stats(f"{development.ws_url}/api/live")["type"] == "server_stats"
        for forwarded in (
            {"X-Forwarded-For": "127.0.0.1"},
            {"X-Forwarded-For": "203.0.113.7"},
            {"Forwarded": "for=127.0.0.1"},
            {"X-Real-IP": "127.0.0.1"},
        ):
            response = httpx2.get(f"{development.http_url}/metrics", headers=forwarded)
            assert response.status_code == 401, forwarded
            with pytest.raises(InvalidStatus):
                connect(f"{development.ws_url}/api/live", additional_headers=forwarded)
        # Let in by its address, it still sent no credential: a route needing a user says so,
        # as the guide does, rather than that some credential lacks the user role.
        assert closed_with(f"{development.ws_url}/items/1/ws") == (1008, MISSING_CREDENTIALS)
        asked = httpx2.post(f"{development.http_url}/api/ws-tickets", json=ITEMS_TICKET)
        assert (asked.status_code, asked.json()["detail"]) == (401, MISSING_HTTP_CREDENTIALS)
        # With a credential, it is that user, and an operator too.
        asked = httpx2.post(
            f"{development.http_url}/api/ws-tickets",
            json=ITEMS_TICKET,
            headers={"Authorization": "Bearer alice"},
        )
        assert asked.status_code == 201


def test_a_bearer_that_is_not_ascii_is_refused_not_an_error(plain: InProcessServer) -> None:
    for value in ("Bearer caf\xe9-token".encode("latin-1"), b"Bearer \xff\xfe", b"Bearer \x80"):
        response = httpx2.get(f"{plain.http_url}/metrics", headers={b"Authorization": value})
        assert response.status_code == 403, value
        response = httpx2.post(
            f"{plain.http_url}/api/ws-tickets", json=LIVE_TICKET, headers={b"Authorization": value}
        )
        assert response.status_code == 403
    assert httpx2.get(f"{plain.http_url}/api/health").status_code == 200
    assert "Traceback" not in plain.log()


def test_a_percent_encoded_parameter_name_is_redacted_like_the_plain_one(
    plain: InProcessServer,
) -> None:
    with connect(f"{plain.ws_url}/items/1/ws?%74oken=encoded-secret-value") as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=5) == (
            "Session cookie or query token value is: encoded-secret-value"
        )
    with connect(f"{plain.ws_url}/items/1/ws?t%6Fken=other-secret-value&q=1") as websocket:
        websocket.send("hi")
        websocket.recv(timeout=5)
    time.sleep(0.2)
    log = plain.log()
    assert "%74oken=[redacted]" in log
    assert "encoded-secret-value" not in log
    assert "other-secret-value" not in log


def test_a_stale_session_cookie_locks_nobody_out(signing: InProcessServer) -> None:
    stale = {"Cookie": f"session={issue_token(SECRET, 'alice', -10).token}"}
    # The guide's chat takes no credential: a stale cookie does not keep its owner out.
    with connect(f"{signing.ws_url}/ws/5", additional_headers=stale) as chat:
        chat.send("still here")
        assert chat.recv(timeout=5) == "You wrote: still here"
    # A valid bearer beats the stale cookie.
    valid = issue_token(SECRET, "alice", 60).token
    ticket = httpx2.post(
        f"{signing.http_url}/api/ws-tickets",
        json={"endpoint": "/items/1/ws"},
        headers={**stale, "Authorization": f"Bearer {valid}"},
    )
    assert ticket.status_code == 201, ticket.text
    # So does a valid query token; with nothing else, the stale cookie is the reason given.
    with connect(f"{signing.ws_url}/items/1/ws?token={valid}", additional_headers=stale) as items:
        items.send("hi")
        assert items.recv(timeout=5) == "Session cookie or query token value is: alice"
    assert closed_with(f"{signing.ws_url}/items/1/ws", stale) == (
        1008,
        "session cookie: token expired: get a new one",
    )
    refused = httpx2.post(
        f"{signing.http_url}/api/ws-tickets", json={"endpoint": "/ws/5"}, headers=stale
    )
    assert (refused.status_code, refused.json()["detail"]) == (
        401,
        "session cookie: token expired: get a new one",
    )


# --- Behind nginx on the same host: every request arrives from 127.0.0.1 -----------------------


@pytest.fixture(params=["127.0.0.1", "*"], ids=["uvicorn's default", "FORWARDED_ALLOW_IPS=*"])
def behind_nginx(
    request: pytest.FixtureRequest, process_servers: ProcessServers
) -> Iterator[tuple[LiveServer, NginxProxy]]:
    # The worst case an operator could configure: loopback counted as an operator.
    app = process_servers.start(
        APP_OPERATOR_ON_LOOPBACK="true",
        APP_METRICS_TOKEN=OPERATOR_TOKEN,
        APP_LOG_LEVEL="info",
        FORWARDED_ALLOW_IPS=request.param,
    )
    try:
        proxy = NginxProxy(REPOSITORY_ROOT / "README.md", [app.port]).start()
    except NginxMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    try:
        yield app, proxy
    finally:
        proxy.stop()


def test_behind_the_readmes_nginx_metrics_and_the_live_page_stay_closed_to_the_world(
    behind_nginx: tuple[LiveServer, NginxProxy],
) -> None:
    app, proxy = behind_nginx
    # Directly on loopback, this development setting opens them...
    assert httpx2.get(f"{app.http_url}/metrics").status_code == 200
    # ...but nobody reaches them through the proxy, whatever they claim to be.
    for claim in ({}, {"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "127.0.0.1"}):
        assert httpx2.get(f"{proxy.http_url}/metrics", headers=claim).status_code == 401, claim
        ticket = httpx2.post(f"{proxy.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=claim)
        assert ticket.status_code == 401
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{proxy.ws_url}/api/live", additional_headers=claim)
        assert refused.value.response.status_code == 403
    # The operator's token works through the proxy, for metrics and (with a ticket) the page.
    assert httpx2.get(f"{proxy.http_url}/metrics", headers=AS_OPERATOR).status_code == 200
    ticket = httpx2.post(f"{proxy.http_url}/api/ws-tickets", json=LIVE_TICKET, headers=AS_OPERATOR)
    assert ticket.status_code == 201
    assert live_stats(f"{proxy.ws_url}/api/live?ticket={ticket.json()['ticket']}")["type"] == (
        "server_stats"
    )
    # And the guide's endpoints still work through it.
    with connect(f"{proxy.ws_url}/ws") as echo:
        echo.send("through nginx")
        assert echo.recv(timeout=5) == "Message text was: through nginx"
