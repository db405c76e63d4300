"""``WS /items/{item_id}/ws``: the guide's endpoint with credentials (CONTRACT.md section 2)."""

from typing import Annotated

from fastapi import (
    APIRouter,
    Cookie,
    Depends,
    Query,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    status,
)

from app.frames import receive_frames
from app.protocol import negotiated_subprotocol
from app.refusals import refuse

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


@router.websocket("/items/{item_id}/ws")
async def item_messages(
    websocket: WebSocket,
    item_id: str,
    credential: CredentialDep,
    q: int | None = None,
) -> None:
    await websocket.accept(subprotocol=negotiated_subprotocol(websocket))
    try:
        async for frame in receive_frames(websocket):
            if isinstance(frame, bytes):
                await refuse(
                    websocket, status.WS_1003_UNSUPPORTED_DATA, "this endpoint takes text only"
                )
                return
            await websocket.send_text(f"Session cookie or query token value is: {credential}")
            if q is not None:
                await websocket.send_text(f"Query parameter q is: {q}")
            await websocket.send_text(f"Message text was: {frame}, for item ID: {item_id}")
    except WebSocketDisconnect:
        pass  # the client left while we were answering: nothing to do
