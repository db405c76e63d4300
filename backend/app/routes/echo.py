"""``WS /ws``: the guide's echo endpoint (CONTRACT.md section 1)."""

from fastapi import APIRouter, WebSocket

from app.conversation import serve_conversation

router = APIRouter(tags=["echo"])


def echo_replies(text: str) -> list[str]:
    return [f"Message text was: {text}"]


@router.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    # The guide says binary works too: the same bytes come back.
    await serve_conversation(websocket, echo_replies, binary="echo")
