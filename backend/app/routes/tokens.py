"""``POST /api/tokens``: a signed, expiring token (a JWT) for ``WS /items/{item_id}/ws``.

A development convenience that stands in for your login: it mints a user's token for any
subject it is asked for, so it is off unless ``APP_DEV_TOKEN_MINTING`` turns it on (the dev
loop does). In a real app, your login issues the tokens (same secret, ``sub`` and ``exp``), and
``python -m app token`` issues an operator's. It never mints a role other than ``user``.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SettingsDep
from app.security.tokens import issue_token

router = APIRouter(prefix="/api/tokens", tags=["tokens"])

SIGNING_OFF = (
    "Signed tokens are off on this server (APP_TOKEN_SECRET is not set): "
    "any non-empty token is accepted, as in the guide."
)
MINTING_OFF = (
    "This server does not hand out tokens without a login (APP_DEV_TOKEN_MINTING is off): "
    "sign in with your application's login, or ask the operator for a token."
)


class TokenRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    # ASCII only: a subject also names its user's channel (user:{subject}).
    subject: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+-]+$")]


class Token(BaseModel):
    token: str
    subject: str
    roles: list[str]
    # Seconds since the epoch.
    expires_at: float


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_token(body: TokenRequest, settings: SettingsDep) -> Token:
    if settings.token_secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, SIGNING_OFF)
    if not settings.dev_token_minting:
        raise HTTPException(status.HTTP_404_NOT_FOUND, MINTING_OFF)
    issued = issue_token(settings.token_secret.get_secret_value(), body.subject, settings.token_ttl)
    return Token(
        token=issued.token,
        subject=issued.subject,
        roles=list(issued.roles),
        expires_at=issued.expires_at,
    )
