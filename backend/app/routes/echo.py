"""``WS /ws``: the guide's echo endpoint (docs/contract.md, section 1)."""

from fastapi import APIRouter, WebSocket

from app.conversation.loop import Conversation, Handler, serve_conversation
from app.deps import start_conversation

router = APIRouter(tags=["echo"])


class Echo(Handler):
    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await conversation.reply(f"Message text was: {text}", message_id)

    async def on_bytes(self, conversation: Conversation, data: bytes) -> None:
        # The guide says binary works too: the same bytes come back.
        await conversation.send_bytes(data)


ECHO = Echo()  # holds no state: one for every connection


@router.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    """The guide's echo: each text message back as `Message text was: X`, bytes as they are."""
    conversation, limits, metrics = start_conversation(websocket)
    await serve_conversation(conversation, ECHO, limits, metrics)
