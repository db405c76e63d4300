"""``WS /ws/{client_id}``: the guide's chat (docs/contract.md, section 3), in rooms, across
processes."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, WebSocket, status

from app.chat.hub import ChatHub, Member
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.deps import HubDep, MessageLimitsDep
from app.security.credentials import OptionalCredentialDep

router = APIRouter(tags=["chat"])

DEFAULT_ROOM = "general"  # the guide's one chat
# Ids as JavaScript numbers hold them exactly; the guide's own page uses Date.now().
MAX_CLIENT_ID = 2**53 - 1

ClientId = Annotated[int, Path(ge=0, le=MAX_CLIENT_ID)]
Room = Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class ChatMessages(Handler):
    def __init__(self, hub: ChatHub, member: Member) -> None:
        self.hub = hub
        self.member = member

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await conversation.reply(f"You wrote: {text}", message_id)
        await self.hub.say(self.member, text)

    async def on_bytes(self, conversation: Conversation, data: bytes) -> None:
        await conversation.close(status.WS_1003_UNSUPPORTED_DATA, "the chat takes text only")


@router.websocket("/ws/{client_id}")
async def chat(
    websocket: WebSocket,
    client_id: ClientId,
    hub: HubDep,
    limits: MessageLimitsDep,
    # The guide's chat takes no credential; one that is sent (a ticket, say) must be valid.
    credential: OptionalCredentialDep,
    room: Room = DEFAULT_ROOM,
) -> None:
    async with hub.join(websocket, room, client_id) as member:
        await serve_conversation(member.conversation, ChatMessages(hub, member), limits)
