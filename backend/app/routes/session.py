"""``/api/session``: the ``session`` cookie that ``WS /items/{item_id}/ws`` reads.

The cookie is HttpOnly, so page scripts can never read it; the SPA sets and clears it here.
"""

import string
from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.deps import SettingsDep

router = APIRouter(prefix="/api/session", tags=["session"])

SESSION_COOKIE = "session"
# RFC 6265 cookie-octet: printable ASCII except space, double quote, comma, semicolon, backslash.
COOKIE_SAFE = frozenset(string.printable[:94]) - set('",;\\')


class SessionStart(BaseModel):
    # strict: a number or a list is refused rather than turned into a string
    model_config = ConfigDict(strict=True, extra="forbid")

    # Its longest is the server's APP_MAX_CREDENTIAL_LENGTH, checked by the route.
    value: Annotated[str, Field(min_length=1)]

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


def check_length(value: str, limit: int) -> None:
    """The same 422 as a model's ``max_length``, for a limit that is a setting."""
    if len(value) > limit:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("body", "value"),
                    "msg": f"String should have at most {limit} characters",
                    "ctx": {"max_length": limit},
                }
            ]
        )


@router.post("", status_code=status.HTTP_204_NO_CONTENT)
async def start_session(
    body: SessionStart, request: Request, response: Response, settings: SettingsDep
) -> None:
    check_length(body.value, settings.max_credential_length)
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
