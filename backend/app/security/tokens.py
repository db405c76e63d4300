"""Signed, expiring tokens for ``WS /items/{item_id}/ws`` (on when ``APP_TOKEN_SECRET`` is set).

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON ``{"sub": ..., "exp": ...}``
and the signature an HMAC-SHA256 of ``v1.<payload>`` with the secret. A dozen lines of the
standard library cover what a JWT library would, for a token only this server reads.

Operators issue one with ``python -m app.security.tokens SUBJECT [--ttl SECONDS]``.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

VERSION = "v1"


class InvalidToken(ValueError):
    """Why a token was refused, in words fit for a close reason (never the token itself)."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    subject: str
    expires_at: float


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, signed_part: str) -> str:
    digest = hmac.new(secret.encode(), signed_part.encode(), hashlib.sha256).digest()
    return _b64encode(digest)


def issue_token(secret: str, subject: str, ttl: float, *, now: float | None = None) -> IssuedToken:
    expires_at = (time.time() if now is None else now) + ttl
    payload = _b64encode(json.dumps({"sub": subject, "exp": expires_at}).encode())
    signed_part = f"{VERSION}.{payload}"
    return IssuedToken(f"{signed_part}.{_sign(secret, signed_part)}", subject, expires_at)


def verify_token(secret: str, token: str, *, now: float | None = None) -> str:
    """The token's subject; raises ``InvalidToken`` when it is forged, malformed or expired."""
    version, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    if version != VERSION or not payload or not signature:
        raise InvalidToken("not a token issued by this server")
    # Compared before anything in the payload is trusted, in constant time.
    if not hmac.compare_digest(signature, _sign(secret, f"{version}.{payload}")):
        raise InvalidToken("token signature is not valid")
    try:
        claims = json.loads(_b64decode(payload))
        subject, expires_at = claims["sub"], float(claims["exp"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("not a token issued by this server") from exc
    if not isinstance(subject, str):
        raise InvalidToken("not a token issued by this server")
    if expires_at <= (time.time() if now is None else now):
        raise InvalidToken("token expired: get a new one")
    return subject


def main(argv: list[str] | None = None) -> None:
    from app.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m app.security.tokens",
        description="Print a signed token for WS /items/{item_id}/ws (needs APP_TOKEN_SECRET).",
    )
    parser.add_argument("subject", help="who the token is for; the endpoint shows it")
    parser.add_argument("--ttl", type=float, help="lifetime in seconds (default APP_TOKEN_TTL)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.token_secret is None:
        parser.error("APP_TOKEN_SECRET is not set: token verification is off")
    secret = settings.token_secret.get_secret_value()
    print(issue_token(secret, args.subject, args.ttl or settings.token_ttl).token)


if __name__ == "__main__":
    main()
