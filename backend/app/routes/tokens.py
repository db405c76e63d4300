"""``POST /api/tokens``: a signed, expiring token (a JWT) for ``WS /items/{item_id}/ws``.

Stands in for your login: in a real app this sits behind authentication and takes the subject
from the signed-in user, not from the request body.
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


class TokenRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    subject: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")]


class Token(BaseModel):
    token: str
    subject: str
    # Seconds since the epoch.
    expires_at: float


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_token(body: TokenRequest, settings: SettingsDep) -> Token:
    if settings.token_secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, SIGNING_OFF)
    issued = issue_token(settings.token_secret.get_secret_value(), body.subject, settings.token_ttl)
    return Token(token=issued.token, subject=issued.subject, expires_at=issued.expires_at)
