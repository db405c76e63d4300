"""Credentials over real sockets: empty, over-long, signed, forged, and never in the log."""

import time

import httpx2
import jwt
import pytest
from pydantic import SecretStr
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.security.tokens import issue_token
from tests.raw_client import closed_with
from tests.servers import InProcessServer, ThreadServers

SECRET = "live-test-secret-of-thirty-two-chars"


@pytest.fixture(scope="module")
def plain(module_thread_servers: ThreadServers) -> InProcessServer:
    """The guide's behaviour: any non-empty credential."""
    return module_thread_servers.start()


@pytest.fixture(scope="module")
def signing(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(token_secret=SecretStr(SECRET), dev_token_minting=True)


@pytest.mark.parametrize(
    ("query", "cookie", "reason"),
    [
        ("?token=", None, "missing credentials"),
        ("?token=%20%20", None, "missing credentials"),
        ("", "session=", "missing credentials"),
        ("?token=" + "t" * 257, None, "credentials too long: at most 256 characters"),
        ("", "session=" + "s" * 257, "session cookie: credentials too long: at most 256 chara"),
    ],
)
def test_empty_and_overlong_credentials_are_refused(
    plain: InProcessServer, query: str, cookie: str | None, reason: str
) -> None:
    headers = {"Cookie": cookie} if cookie else {}
    code, said = closed_with(f"{plain.ws_url}/items/1/ws{query}", headers)
    assert (code, said.split(":")[0]) == (1008, reason.split(":")[0])
    assert said.startswith(reason)
    with pytest.raises(InvalidStatus) as exc:  # a guide client: refused at the handshake
        connect(f"{plain.ws_url}/items/1/ws{query}", additional_headers=headers)
    assert exc.value.response.status_code == 403


def test_query_tokens_never_reach_the_log(plain: InProcessServer) -> None:
    with connect(f"{plain.ws_url}/items/1/ws?q=1&token=hunter2-not-for-logs") as websocket:
        websocket.send("hello")
        websocket.recv(timeout=5)
    httpx2.get(f"{plain.http_url}/api/health?token=hunter2-http")
    time.sleep(0.2)
    log = plain.log()
    assert "hunter2" not in log
    assert "token=[redacted]" in log


def test_signed_token_from_the_endpoint_is_accepted(signing: InProcessServer) -> None:
    response = httpx2.post(f"{signing.http_url}/api/tokens", json={"subject": "alice"})
    assert response.status_code == 201
    token = response.json()["token"]
    with connect(f"{signing.ws_url}/items/1/ws?token={token}") as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: alice"
    with connect(
        f"{signing.ws_url}/items/1/ws", additional_headers={"Cookie": f"session={token}"}
    ) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: alice"


def test_a_jwt_from_an_existing_login_is_accepted_as_is(signing: InProcessServer) -> None:
    # What full-stack-fastapi-template's login issues: HS256, "exp" and "sub", the shared secret.
    token = jwt.encode({"exp": int(time.time()) + 60, "sub": "42"}, SECRET, algorithm="HS256")
    with connect(f"{signing.ws_url}/items/1/ws?token={token}") as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Session cookie or query token value is: 42"


def _unsigned(claims: dict[str, object]) -> str:
    return jwt.encode(claims, key="", algorithm="none")


def _rs256(claims: dict[str, object]) -> str:
    # RS/HS confusion: a token claiming RS256 whose "signature" is an HMAC made with the secret
    # (an attacker's guess at a server that would verify RS256 with the HS256 secret).
    _, payload, signature = jwt.encode(claims, SECRET, algorithm="HS256").split(".")
    forged_header = jwt.utils.base64url_encode(b'{"alg":"RS256","typ":"JWT"}').decode()
    return f"{forged_header}.{payload}.{signature}"


CLAIMS: dict[str, object] = {"sub": "mallory", "exp": 4_000_000_000}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (issue_token(SECRET, "alice", -1).token, "token expired: get a new one"),
        (
            issue_token("not-the-secret-but-long-enough-too", "alice", 60).token,
            "token signature is not valid",
        ),
        ("some-token", "not a token issued by this server"),
        (_unsigned(CLAIMS), "token algorithm not accepted: only HS256"),
        (_rs256(CLAIMS), "token algorithm not accepted: only HS256"),
        (jwt.encode({"sub": "alice"}, SECRET, algorithm="HS256"), "token has no 'exp' claim"),
    ],
)
def test_expired_forged_malformed_and_confused_tokens_are_refused(
    signing: InProcessServer, token: str, reason: str
) -> None:
    assert closed_with(f"{signing.ws_url}/items/1/ws?token={token}") == (1008, reason)


def test_without_a_secret_there_are_no_signed_tokens(plain: InProcessServer) -> None:
    response = httpx2.post(f"{plain.http_url}/api/tokens", json={"subject": "alice"})
    assert response.status_code == 404
    assert "APP_TOKEN_SECRET is not set" in response.json()["detail"]
