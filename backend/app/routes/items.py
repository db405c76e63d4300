"""``WS /items/{item_id}/ws``: the guide's endpoint with credentials (docs/contract.md, sec. 2)."""

from fastapi import APIRouter, WebSocket

from app.conversation.loop import Conversation, Handler, serve_conversation
from app.deps import start_conversation
from app.security.credentials import UserDep

router = APIRouter(tags=["items"])


class ItemMessages(Handler):
    def __init__(self, subject: str, item_id: str, q: int | None) -> None:
        # The guide echoes its credential; with signed tokens on, that is the verified subject.
        self.credential_line = f"Session cookie or query token value is: {subject}"
        self.q_line = None if q is None else f"Query parameter q is: {q}"
        self.item_id = item_id

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await conversation.reply(self.credential_line, message_id)
        if self.q_line is not None:
            await conversation.reply(self.q_line, message_id)
        await conversation.reply(
            f"Message text was: {text}, for item ID: {self.item_id}", message_id
        )


@router.websocket("/items/{item_id}/ws")
async def item_messages(
    websocket: WebSocket,
    item_id: str,
    principal: UserDep,
    q: int | None = None,
) -> None:
    """The guide's endpoint with a credential (the user role) and an optional integer `q`."""
    conversation, limits, metrics = start_conversation(websocket)
    await serve_conversation(
        conversation, ItemMessages(principal.subject, item_id, q), limits, metrics
    )
