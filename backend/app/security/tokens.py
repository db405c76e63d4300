"""Signed, expiring tokens (on when ``APP_TOKEN_SECRET`` is set): standard JWTs, made with PyJWT.

A token is a JWT signed with HS256 and the secret, with the claims ``sub`` (who) and ``exp``
(until when), and optionally ``roles`` (what it may do; ``user`` when absent). That is exactly
what an existing FastAPI login issues when it shares the secret (full-stack-fastapi-template's
access tokens, for one), so its tokens are accepted as they are, as a user's.
Only HS256 is accepted: a token that names ``none`` or an RSA algorithm (the classic
algorithm-confusion attacks) is refused before its signature is even looked at.

Operators issue one with ``python -m app token SUBJECT [--role operator] [--ttl SECONDS]``.
"""

import time
from dataclasses import dataclass

import jwt

from app.security.principal import Principal, Role, known_roles, user

ALGORITHM = "HS256"


class InvalidToken(ValueError):
    """Why a token was refused, in words fit for a close reason (never the token itself)."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    subject: str
    roles: tuple[Role, ...]
    # Seconds since the epoch.
    expires_at: float


def issue_token(
    secret: str,
    subject: str,
    ttl: float,
    *,
    roles: tuple[Role, ...] = ("user",),
    now: float | None = None,
) -> IssuedToken:
    expires_at = int((time.time() if now is None else now) + ttl)
    claims = {"sub": subject, "exp": expires_at, "roles": list(roles)}
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return IssuedToken(token, subject, roles, expires_at)


def verify_token(secret: str, token: str) -> Principal:
    """Who the token stands for; raises ``InvalidToken`` when it is forged, malformed or
    expired. Without a ``roles`` claim (another login's token) it is a user's."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired: get a new one") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken("token signature is not valid") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise InvalidToken(f"token algorithm not accepted: only {ALGORITHM}") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"token has no {exc.claim!r} claim") from exc
    except jwt.InvalidTokenError as exc:  # not a JWT at all, or claims of the wrong type
        raise InvalidToken("not a token issued by this server") from exc
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("not a token issued by this server")
    if "roles" not in claims:
        return user(subject)
    return Principal(subject, known_roles(claims["roles"]))
