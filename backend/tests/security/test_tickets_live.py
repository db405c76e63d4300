"""Bearer headers for programs and single-use tickets for browsers, over real sockets."""

import time
from pathlib import Path

import httpx2
import jwt
import pytest
import redis
from pydantic import SecretStr
from websockets.sync.client import connect
from websockets.typing import Origin

from app.security.tokens import issue_token
from app.settings import Settings
from testkit.processes import RedisServer
from tests.raw_client import closed_with
from tests.servers import InProcessServer, ProcessServers, ThreadServers, serve_in_thread

SECRET = "tickets-test-secret-of-thirty-two-chars"
OTHER_PAGE = "https://app.example"  # allowed to open sockets, but not to use our page's tickets


@pytest.fixture(scope="module")
def plain(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(allowed_origins=[OTHER_PAGE], ticket_ttl=30)


@pytest.fixture(scope="module")
def signing(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(token_secret=SecretStr(SECRET))


def first_line(url: str, headers: dict[str, str] | None = None, origin: str | None = None) -> str:
    with connect(
        url, additional_headers=headers, origin=Origin(origin) if origin else None
    ) as websocket:
        websocket.send("hello")
        return str(websocket.recv(timeout=5))


def ticket_for(server: InProcessServer, endpoint: str, **headers: str) -> str:
    response = httpx2.post(
        f"{server.http_url}/api/ws-tickets", json={"endpoint": endpoint}, headers=headers
    )
    assert response.status_code == 201, response.text
    ticket: str = response.json()["ticket"]
    return ticket


# --- Bearer headers ---------------------------------------------------------------------------


def test_a_program_sends_a_bearer_header(plain: InProcessServer) -> None:
    line = first_line(f"{plain.ws_url}/items/1/ws", {"Authorization": "Bearer program-token"})
    assert line == "Session cookie or query token value is: program-token"


def test_an_explicit_credential_beats_the_cookie_and_the_guides_rule_holds(
    plain: InProcessServer,
) -> None:
    url = f"{plain.ws_url}/items/1/ws?token=query-token"
    bearer = {"Authorization": "Bearer header-token"}
    # A header is sent on purpose; the cookie by the browser, to every page.
    assert first_line(url, {**bearer, "Cookie": "session=cookie"}).endswith(": header-token")
    assert first_line(url, bearer).endswith(": header-token")
    # The guide's own rule: the cookie over the query token.
    assert first_line(url, {"Cookie": "session=cookie"}).endswith(": cookie")
    assert first_line(url).endswith(": query-token")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic dXNlcjpwYXNz", "Authorization header: only Bearer tokens are accepted"),
        ("Bearer   ", "Authorization header: no token after Bearer"),
    ],
)
def test_a_malformed_authorization_header_is_refused(
    plain: InProcessServer, header: str, reason: str
) -> None:
    assert closed_with(f"{plain.ws_url}/items/1/ws", {"Authorization": header}) == (1008, reason)


def test_a_signed_bearer_token_is_accepted(signing: InProcessServer) -> None:
    token = issue_token(SECRET, "service-a", 60).token
    line = first_line(f"{signing.ws_url}/items/1/ws", {"Authorization": f"Bearer {token}"})
    assert line == "Session cookie or query token value is: service-a"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (issue_token(SECRET, "alice", -1).token, "token expired: get a new one"),
        (
            issue_token("another-secret-that-is-long-enough", "alice", 60).token,
            "token signature is not valid",
        ),
        (
            jwt.encode({"sub": "mallory", "exp": 4_000_000_000}, "", algorithm="none"),
            "token algorithm not accepted: only HS256",
        ),
    ],
)
def test_expired_forged_and_unsigned_bearer_tokens_are_refused(
    signing: InProcessServer, token: str, reason: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert closed_with(f"{signing.ws_url}/items/1/ws", headers) == (1008, reason)


# --- Tickets ----------------------------------------------------------------------------------


def test_a_ticket_opens_one_connection_and_only_one(plain: InProcessServer) -> None:
    ticket = ticket_for(plain, "/items/7/ws", Cookie="session=from-the-cookie")
    url = f"{plain.ws_url}/items/7/ws?ticket={ticket}"
    assert first_line(url) == "Session cookie or query token value is: from-the-cookie"
    assert closed_with(url) == (
        1008,
        "ticket not valid: unknown, or used already (it opens one connection)",
    )


def test_a_program_gets_a_ticket_with_its_bearer_token(signing: InProcessServer) -> None:
    token = issue_token(SECRET, "bob", 60).token
    ticket = ticket_for(signing, "/items/7/ws", Authorization=f"Bearer {token}")
    assert first_line(f"{signing.ws_url}/items/7/ws?ticket={ticket}").endswith(": bob")


def test_an_expired_ticket_is_refused(tmp_path: Path) -> None:
    with serve_in_thread(Settings(frontend_dir=tmp_path, ticket_ttl=0.2)) as server:
        ticket = ticket_for(server, "/items/1/ws", Cookie="session=s")
        time.sleep(0.4)
        assert closed_with(f"{server.ws_url}/items/1/ws?ticket={ticket}") == (
            1008,
            "ticket expired: ask for a new one",
        )


def test_a_ticket_for_another_endpoint_is_refused(plain: InProcessServer) -> None:
    ticket = ticket_for(plain, "/items/mine/ws", Cookie="session=s")
    assert closed_with(f"{plain.ws_url}/items/yours/ws?ticket={ticket}") == (
        1008,
        "ticket is for another endpoint (/items/mine/ws)",
    )


def test_a_ticket_from_another_origin_is_refused(plain: InProcessServer) -> None:
    own_page = f"http://127.0.0.1:{plain.port}"
    ticket = ticket_for(plain, "/items/1/ws", Cookie="session=s", Origin=own_page)
    assert first_line(f"{plain.ws_url}/items/1/ws?ticket={ticket}", origin=own_page).endswith(": s")
    stolen = ticket_for(plain, "/items/1/ws", Cookie="session=s", Origin=own_page)
    assert closed_with(f"{plain.ws_url}/items/1/ws?ticket={stolen}", origin=OTHER_PAGE) == (
        1008,
        "ticket was issued to a page of another origin",
    )


def test_tickets_are_asked_for_with_credentials_and_for_real_endpoints(
    plain: InProcessServer, signing: InProcessServer
) -> None:
    url = f"{plain.http_url}/api/ws-tickets"
    refused = httpx2.post(url, json={"endpoint": "/items/1/ws"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "missing credentials: set the session cookie or send Authorization: Bearer <token>"
    )
    assert refused.headers["www-authenticate"] == "Bearer"
    forged = httpx2.post(
        f"{signing.http_url}/api/ws-tickets",
        json={"endpoint": "/items/1/ws"},
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert (forged.status_code, forged.json()["detail"]) == (
        401,
        "not a token issued by this server",
    )
    unknown = httpx2.post(url, json={"endpoint": "/nowhere"}, headers={"Cookie": "session=s"})
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "no WebSocket at /nowhere")
    chat = httpx2.post(url, json={"endpoint": "/ws/42"}, headers={"Cookie": "session=s"})
    assert chat.status_code == 201


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"endpoint": "/items/1/ws" + "x" * 10_000}, "at most 512 characters"),
        ({"endpoint": "items/1/ws"}, "must be the socket's path"),
        ({"endpoint": "/items/1/ws?token=t"}, "must be the socket's path"),
        ({"endpoint": 42}, "string"),
        ({}, "Field required"),
        ({"endpoint": "/ws/1", "room": "general"}, "Extra inputs are not permitted"),
    ],
)
def test_a_malformed_ticket_request_is_told_why_and_the_server_serves_on(
    plain: InProcessServer, body: object, problem: str
) -> None:
    url = f"{plain.http_url}/api/ws-tickets"
    response = httpx2.post(url, json=body, headers={"Cookie": "session=s"})
    assert response.status_code == 422
    assert problem in response.text
    assert ticket_for(plain, "/ws/1", Cookie="session=s")


def test_a_ticket_request_that_is_not_json_and_an_overlong_ticket_are_refused(
    plain: InProcessServer,
) -> None:
    def post(content: bytes) -> httpx2.Response:
        return httpx2.post(
            f"{plain.http_url}/api/ws-tickets",
            content=content,
            headers={"Cookie": "session=s", "Content-Type": "application/json"},
        )

    not_json = post(b"{endpoint")
    assert not_json.status_code == 422
    assert "JSON decode error" in not_json.text
    not_text = post(b"\xff{endpoint")
    assert not_text.status_code == 400
    assert not_text.json()["detail"] == "There was an error parsing the body"
    code, reason = closed_with(f"{plain.ws_url}/items/1/ws?ticket={'t' * 5_000}")
    assert (code, reason) == (1008, "ticket is too long: at most 128 characters")


def test_the_chat_takes_a_ticket_and_refuses_a_bad_one(plain: InProcessServer) -> None:
    ticket = ticket_for(plain, "/ws/42", Cookie="session=s")
    assert first_line(f"{plain.ws_url}/ws/42?ticket={ticket}") == "You wrote: hello"
    code, reason = closed_with(f"{plain.ws_url}/ws/42?ticket=made-up")
    assert (code, reason.split(":")[0]) == (1008, "ticket not valid")


def test_no_ticket_or_token_reaches_the_log(plain: InProcessServer) -> None:
    ticket = ticket_for(plain, "/items/1/ws", Authorization="Bearer bearer-secret-value")
    first_line(f"{plain.ws_url}/items/1/ws?ticket={ticket}")
    closed_with(f"{plain.ws_url}/items/1/ws?ticket={ticket}")  # refused: used already
    first_line(f"{plain.ws_url}/items/1/ws?token=query-secret-value")
    time.sleep(0.2)
    log = plain.log()
    assert "ticket=[redacted]" in log
    for secret in (ticket, "bearer-secret-value", "query-secret-value"):
        assert secret not in log


def test_a_ticket_issued_by_one_process_opens_a_socket_on_another(
    redis_server: RedisServer, process_servers: ProcessServers
) -> None:
    one, two = process_servers.start_two(APP_REDIS_URL=redis_server.url)
    response = httpx2.post(
        f"{one.http_url}/api/ws-tickets",
        json={"endpoint": "/items/9/ws"},
        headers={"Cookie": "session=shared"},
    )
    ticket = response.json()["ticket"]
    url = f"{two.ws_url}/items/9/ws?ticket={ticket}"
    with connect(url) as websocket:
        websocket.send("across")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: shared"
    assert closed_with(url)[0] == 1008  # and only once, there too
    for server in (one, two):
        assert ticket not in server.log()


# --- Bounds: what one client can make the ticket store keep ----------------------------------


def test_one_client_asking_too_often_is_slowed_down_and_others_are_not(tmp_path: Path) -> None:
    settings = Settings(frontend_dir=tmp_path, tickets_per_second=2)  # bursts of 8
    with serve_in_thread(settings) as server:
        url = f"{server.http_url}/api/ws-tickets"
        started = time.monotonic()
        statuses = [
            httpx2.post(url, json={"endpoint": "/ws/1"}, headers={"Cookie": "session=flood"})
            for _ in range(16)
        ]
        elapsed = time.monotonic() - started
        issued = [r.status_code for r in statuses].count(201)
        assert 8 <= issued <= 8 + 2 * elapsed + 1  # the burst, and the rate meanwhile
        # Not necessarily the last: the bucket refills meanwhile, 2 a second.
        refused = next(r for r in statuses if r.status_code != 201)
        assert refused.status_code == 429
        assert refused.json()["detail"] == "too many tickets asked for: try again in a moment"
        assert int(refused.headers["retry-after"]) >= 1
        # Another credential from another address (as a local proxy reports it) is served.
        other = httpx2.post(
            url,
            json={"endpoint": "/ws/1"},
            headers={"Cookie": "session=someone-else", "X-Forwarded-For": "203.0.113.9"},
        )
        assert other.status_code == 201


def test_one_credential_asking_from_many_addresses_is_slowed_down_too(tmp_path: Path) -> None:
    # The bucket per subject: a credential cannot dodge the rate by coming from many addresses
    # (as a botnet would, or forged forwarding headers through a proxy that trusts them).
    settings = Settings(frontend_dir=tmp_path, tickets_per_second=2)  # bursts of 8
    with serve_in_thread(settings) as server:
        url = f"{server.http_url}/api/ws-tickets"
        started = time.monotonic()
        statuses = [
            httpx2.post(
                url,
                json={"endpoint": "/ws/1"},
                headers={"Cookie": "session=one-user", "X-Forwarded-For": f"198.51.100.{n}"},
            )
            for n in range(16)
        ]
        elapsed = time.monotonic() - started
        issued = [r.status_code for r in statuses].count(201)
        assert 8 <= issued <= 8 + 2 * elapsed + 1
        refused = next(r for r in statuses if r.status_code != 201)
        assert refused.status_code == 429
        assert refused.json()["detail"] == "too many tickets asked for: try again in a moment"


def test_the_process_keeps_a_bounded_number_of_tickets(tmp_path: Path) -> None:
    settings = Settings(frontend_dir=tmp_path, max_tickets=5, tickets_per_second=1000)
    with serve_in_thread(settings) as server:
        url = f"{server.http_url}/api/ws-tickets"
        answers = [
            httpx2.post(
                url,
                json={"endpoint": "/ws/1"},
                headers={"Cookie": f"session=user-{n}", "X-Forwarded-For": f"203.0.113.{n}"},
            )
            for n in range(8)
        ]
        codes = [answer.status_code for answer in answers]
        assert codes.count(201) == 5
        assert set(codes[5:]) <= {429, 503}, codes
        # Using one frees its place.
        first_line(f"{server.ws_url}/ws/1?ticket={answers[0].json()['ticket']}")
        again = httpx2.post(url, json={"endpoint": "/ws/1"}, headers={"Cookie": "session=late"})
        assert again.status_code in (201, 429)


def test_a_huge_or_foreign_origin_gets_no_ticket_and_an_allowed_one_is_kept_by_name(
    plain: InProcessServer,
) -> None:
    url = f"{plain.http_url}/api/ws-tickets"
    huge = "https://" + "a" * 14_000 + ".example"
    for origin in (huge, "https://evil.example"):
        response = httpx2.post(
            url, json={"endpoint": "/ws/1"}, headers={"Cookie": "session=s", "Origin": origin}
        )
        assert response.status_code == 403
        assert response.json()["detail"] == (
            "this page's origin may not open sockets on this server"
        )
    # An allowed origin, written differently (case, a trailing slash), is the same entry.
    ticket = ticket_for(plain, "/ws/1", Cookie="session=s", Origin=OTHER_PAGE.upper() + "/")
    assert first_line(f"{plain.ws_url}/ws/1?ticket={ticket}", origin=OTHER_PAGE).startswith(
        "You wrote"
    )


def test_a_ticket_in_redis_holds_neither_the_credential_nor_the_subject(
    redis_server: RedisServer, process_servers: ProcessServers
) -> None:
    server = process_servers.start(APP_REDIS_URL=redis_server.url)
    ticket = httpx2.post(
        f"{server.http_url}/api/ws-tickets",
        json={"endpoint": "/items/9/ws"},
        headers={"Cookie": "session=the-users-own-credential"},
    ).json()["ticket"]
    stored = redis.Redis.from_url(redis_server.url)
    keys: list[bytes] = stored.keys("ws-ticket:*")  # type: ignore[assignment]
    assert len(keys) == 1
    value: bytes | None = stored.get(keys[0])  # type: ignore[assignment]
    assert value is not None
    assert b"the-users-own-credential" not in value
    assert ticket.encode() not in keys[0] + value
    stored.close()
    assert first_line(f"{server.ws_url}/items/9/ws?ticket={ticket}").endswith(
        ": the-users-own-credential"
    )
