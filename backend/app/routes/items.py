"""``WS /items/{item_id}/ws``: the guide's endpoint with credentials (CONTRACT.md section 2)."""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Query, WebSocket, WebSocketException, status

from app.conversation import Replies, serve_conversation
from app.security.tokens import InvalidToken, verify_token
from app.settings import Settings, get_settings

router = APIRouter(tags=["items"])

MISSING_CREDENTIALS = "missing credentials: set the session cookie or the token query parameter"


def _refuse(reason: str) -> WebSocketException:
    return WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=reason)


async def get_cookie_or_token(
    settings: Annotated[Settings, Depends(get_settings)],
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
) -> str:
    """The credential, or with signed tokens on, the subject of a valid one."""
    # As in the guide, the cookie wins when both are sent. Blank counts as missing.
    credential = next((value for value in (session, token) if value and value.strip()), None)
    if credential is None:
        raise _refuse(MISSING_CREDENTIALS)
    if len(credential) > settings.max_credential_length:
        raise _refuse(f"credentials too long: at most {settings.max_credential_length} characters")
    if settings.token_secret is None:
        return credential
    try:
        return verify_token(settings.token_secret.get_secret_value(), credential)
    except InvalidToken as exc:
        raise _refuse(str(exc)) from exc


CredentialDep = Annotated[str, Depends(get_cookie_or_token)]


def item_replies(credential: str, item_id: str, q: int | None) -> Replies:
    def replies(text: str) -> list[str]:
        lines = [f"Session cookie or query token value is: {credential}"]
        if q is not None:
            lines.append(f"Query parameter q is: {q}")
        lines.append(f"Message text was: {text}, for item ID: {item_id}")
        return lines

    return replies


@router.websocket("/items/{item_id}/ws")
async def item_messages(
    websocket: WebSocket,
    item_id: str,
    credential: CredentialDep,
    q: int | None = None,
) -> None:
    await serve_conversation(websocket, item_replies(credential, item_id, q), binary="refuse")
