"""``/api/session``: the ``session`` cookie that ``WS /items/{item_id}/ws`` reads.

The cookie is HttpOnly, so page scripts can never read it; the SPA sets and clears it here.
"""

import string
from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

router = APIRouter(prefix="/api/session", tags=["session"])

SESSION_COOKIE = "session"
MAX_SESSION_LENGTH = 256
# RFC 6265 cookie-octet: printable ASCII except space, double quote, comma, semicolon, backslash.
COOKIE_SAFE = frozenset(string.printable[:94]) - set('",;\\')


class SessionStart(BaseModel):
    # strict: a number or a list is refused rather than turned into a string
    model_config = ConfigDict(strict=True, extra="forbid")

    value: Annotated[str, Field(min_length=1, max_length=MAX_SESSION_LENGTH)]

    @field_validator("value")
    @classmethod
    def must_fit_in_a_cookie(cls, value: str) -> str:
        if not set(value) <= COOKIE_SAFE:
            raise ValueError(
                "may contain only letters, digits and punctuation, "
                "without spaces, quotes, commas, semicolons or backslashes"
            )
        return value


class SessionState(BaseModel):
    active: bool


@router.get("")
async def session_state(session: Annotated[str | None, Cookie()] = None) -> SessionState:
    """Whether a session cookie is set (never its value)."""
    return SessionState(active=bool(session))


@router.post("", status_code=status.HTTP_204_NO_CONTENT)
async def start_session(body: SessionStart, request: Request, response: Response) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        body.value,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
