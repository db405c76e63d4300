"""Signed tokens: issue, verify, and every way one is refused."""

import subprocess
import sys

import pytest

from app.security.tokens import InvalidToken, issue_token, verify_token
from app.settings import REPOSITORY_ROOT

SECRET = "test-secret-that-is-long-enough"


def test_a_token_names_its_subject_until_it_expires() -> None:
    issued = issue_token(SECRET, "alice", 60, now=1000.0)
    assert verify_token(SECRET, issued.token, now=1059.0) == "alice"
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(SECRET, issued.token, now=1060.0)


def test_a_token_signed_with_another_secret_is_forged() -> None:
    token = issue_token("another-secret", "alice", 60).token
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(SECRET, token)


def test_a_changed_payload_breaks_the_signature() -> None:
    token = issue_token(SECRET, "alice", 60).token
    version, payload, signature = token.split(".")
    forged = issue_token(SECRET, "mallory", 60).token.split(".")[1]
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(SECRET, f"{version}.{forged}.{signature}")
    assert payload != forged


@pytest.mark.parametrize("token", ["", "abc", "v1.", "v1.x.", "v2.a.b", "v1..sig", "....."])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_operators_issue_tokens_from_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.security.tokens", "ops", "--ttl", "30"],
        cwd=REPOSITORY_ROOT,
        env={"APP_TOKEN_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert verify_token(SECRET, result.stdout.strip()) == "ops"


def test_the_command_says_when_signing_is_off() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.security.tokens", "ops"],
        cwd=REPOSITORY_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "APP_TOKEN_SECRET is not set" in result.stderr
