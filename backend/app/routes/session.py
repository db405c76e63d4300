"""``/api/session``: the ``session`` cookie that ``WS /items/{item_id}/ws`` reads.

The cookie is HttpOnly, so page scripts can never read it; the SPA sets and clears it here.
"""

import string
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict

from app.deps import SettingsDep

router = APIRouter(prefix="/api/session", tags=["session"])

SESSION_COOKIE = "session"
# RFC 6265 cookie-octet: printable ASCII except space, double quote, comma, semicolon, backslash.
COOKIE_SAFE = frozenset(string.printable[:94]) - set('",;\\')
NOT_COOKIE_SAFE = (
    "the session value takes letters, digits and punctuation only: "
    "no spaces, quotes, commas, semicolons or backslashes"
)
# The refusals a value typed into a page can get, as the page shows them (422, detail: str).
BAD_VALUE: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "A value that cannot be a session cookie, with the reason in `detail`.",
        "content": {"application/json": {"example": {"detail": NOT_COOKIE_SAFE}}},
    }
}


class SessionStart(BaseModel):
    # strict: a number or a list is refused rather than turned into a string
    model_config = ConfigDict(strict=True, extra="forbid")

    value: str


class SessionState(BaseModel):
    active: bool


def value_problem(value: str, longest: int) -> str | None:
    """What is wrong with a session value, in the words the page shows; None if nothing.

    Checked here rather than by the model, whose messages are the validation library's
    ("Value error, …") inside an array of problems."""
    if value == "":
        return "the session value is empty"
    if len(value) > longest:
        return f"the session value is longer than {longest} characters"
    if not set(value) <= COOKIE_SAFE:
        return NOT_COOKIE_SAFE
    return None


@router.get("")
async def session_state(session: Annotated[str | None, Cookie()] = None) -> SessionState:
    """Whether a session cookie is set (never its value)."""
    return SessionState(active=bool(session))


# A bare 204: no body, so no content type (FastAPI's default response class would say JSON).
@router.post(
    "", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=BAD_VALUE
)
async def start_session(body: SessionStart, request: Request, settings: SettingsDep) -> Response:
    problem = value_problem(body.value, settings.max_credential_length)
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.set_cookie(
        SESSION_COOKIE,
        body.value,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def end_session(request: Request) -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response
