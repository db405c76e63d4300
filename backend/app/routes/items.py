"""``WS /items/{item_id}/ws``: the guide's endpoint with credentials (CONTRACT.md section 2)."""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Query, WebSocket, WebSocketException, status

from app.conversation import Replies, serve_conversation

router = APIRouter(tags=["items"])

MISSING_CREDENTIALS = "missing credentials: set the session cookie or the token query parameter"


async def get_cookie_or_token(
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
) -> str:
    # As in the guide, the cookie wins when both are sent.
    credential = session or token
    if not credential:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=MISSING_CREDENTIALS)
    return credential


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
