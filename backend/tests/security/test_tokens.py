"""Signed tokens (JWTs): issue, verify, and every way one is refused."""

import subprocess
import sys
import time

import jwt
import pytest

from app.security.principal import Principal, user
from app.security.tokens import InvalidToken, issue_token, verify_token
from app.settings import REPOSITORY_ROOT

SECRET = "test-secret-that-is-long-enough-for-hs256"


def test_a_token_names_its_subject_until_it_expires() -> None:
    issued = issue_token(SECRET, "alice", 60)
    assert verify_token(SECRET, issued.token) == user("alice")
    expired = issue_token(SECRET, "alice", 60, now=time.time() - 61)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SECRET, expired.token)


def test_a_token_is_a_standard_jwt() -> None:
    issued = issue_token(SECRET, "alice", 60, now=1000.0)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    claims = jwt.decode(issued.token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"sub": "alice", "exp": 1060, "roles": ["user"]}


def test_a_token_carries_its_roles_and_one_without_them_is_a_users() -> None:
    operator = issue_token(SECRET, "ops", 60, roles=("operator",)).token
    assert verify_token(SECRET, operator) == Principal("ops", frozenset({"operator"}))
    from_another_login = jwt.encode({"sub": "bob", "exp": 4_000_000_000}, SECRET, "HS256")
    assert verify_token(SECRET, from_another_login) == user("bob")
    unknown_roles = jwt.encode(
        {"sub": "eve", "exp": 4_000_000_000, "roles": ["root", {"x": 1}, "user"]}, SECRET, "HS256"
    )
    assert verify_token(SECRET, unknown_roles) == user("eve")


def test_a_token_signed_with_another_secret_is_forged() -> None:
    token = issue_token("another-secret-that-is-long-enough-too", "alice", 60).token
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(SECRET, token)


def test_a_changed_payload_breaks_the_signature() -> None:
    token = issue_token(SECRET, "alice", 60).token
    header, payload, signature = token.split(".")
    forged = issue_token(SECRET, "mallory", 60).token.split(".")[1]
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(SECRET, f"{header}.{forged}.{signature}")
    assert payload != forged


def test_none_and_other_algorithms_are_refused() -> None:
    unsigned = jwt.encode({"sub": "mallory", "exp": 4_000_000_000}, "", algorithm="none")
    with pytest.raises(InvalidToken, match="only HS256"):
        verify_token(SECRET, unsigned)
    hs512 = jwt.encode({"sub": "mallory", "exp": 4_000_000_000}, SECRET * 2, algorithm="HS512")
    with pytest.raises(InvalidToken, match="only HS256"):
        verify_token(SECRET * 2, hs512)


@pytest.mark.parametrize("token", ["", "abc", "v1.", "v1.x.", "v2.a.b", "v1..sig", "....."])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_operators_issue_tokens_from_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "token", "ops", "--role", "operator", "--ttl", "30"],
        cwd=REPOSITORY_ROOT / "backend",
        env={"APP_TOKEN_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert verify_token(SECRET, result.stdout.strip()) == Principal("ops", frozenset({"operator"}))


def test_the_command_says_when_signing_is_off() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "token", "ops"],
        cwd=REPOSITORY_ROOT / "backend",
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "APP_TOKEN_SECRET is not set" in result.stderr
