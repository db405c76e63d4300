"""``WS /ws``: the guide's echo endpoint (CONTRACT.md section 1)."""

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.frames import receive_frames
from app.protocol import negotiated_subprotocol

router = APIRouter(tags=["echo"])


@router.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol=negotiated_subprotocol(websocket))
    try:
        async for frame in receive_frames(websocket):
            if isinstance(frame, bytes):
                # The guide says binary works too: the same bytes come back.
                await websocket.send_bytes(frame)
            else:
                await websocket.send_text(f"Message text was: {frame}")
    except WebSocketDisconnect:
        pass  # the client left while we were answering: nothing to do
