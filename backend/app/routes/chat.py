"""``WS /ws/{client_id}``: the guide's chat (docs/contract.md, section 3), in rooms, across
processes, with history and recovery for ``realtime.json.v1`` clients."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, WebSocket, WebSocketException, status

from app.chat.hub import SLOW_CLIENT_CLOSE_CODE, ChatHub
from app.chat.members import Member
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.conversation.messages import Ack, Error
from app.conversation.refusals import refuse
from app.deps import HubDep, MessageLimitsDep, MetricsDep
from app.rooms.events import Position, RoomUnavailable
from app.rooms.ledger import RoomsFull
from app.security.credentials import OptionalPrincipalDep

router = APIRouter(tags=["chat"])

DEFAULT_ROOM = "general"  # the guide's one chat
# Ids as JavaScript numbers hold them exactly; the guide's own page uses Date.now().
MAX_CLIENT_ID = 2**53 - 1
ROOM_UNAVAILABLE = "the room cannot take messages right now: send it again in a moment"
CANNOT_KEEP = "the room cannot keep what you say right now: try again later"
TOO_MANY_ROOMS = "this server keeps as many rooms as it may: try again later"

ClientId = Annotated[int, Path(ge=0, le=MAX_CLIENT_ID)]
Room = Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# A realtime.json.v1 client's last position in the room, to resume from: "epoch:offset".
Since = Annotated[str | None, Query(max_length=80)]


class ChatMessages(Handler):
    endpoint = "/ws/{client_id}"

    def __init__(self, hub: ChatHub, member: Member) -> None:
        self.hub = hub
        self.member = member

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await self.member.wait_for_room()
        if conversation.dialect is not Dialect.JSON_V1:
            if not self.hub.can_keep(self.member, text):
                # Closed before the echo: nothing it was told was taken is ever lost.
                await conversation.close(SLOW_CLIENT_CLOSE_CODE, CANNOT_KEEP)
                return
            await conversation.reply(f"You wrote: {text}", message_id)  # the guide's echo
            # While the room is away the hub keeps the message, and places it on its return.
            with contextlib.suppress(RoomUnavailable):
                await self.hub.say(self.member, text)
            return
        try:
            event = await self.hub.say(self.member, text, message_id)
        except RoomUnavailable:
            error = Error(code="room_unavailable", detail=ROOM_UNAVAILABLE, reply_to=message_id)
            await conversation.send(error.model_dump_json())
            return
        assert message_id is not None  # realtime.json.v1 messages always have one
        ack = Ack(reply_to=message_id, room=event.room, epoch=event.epoch, offset=event.offset)
        await conversation.send(ack.model_dump_json())

    async def on_bytes(self, conversation: Conversation, data: bytes) -> None:
        await conversation.close(status.WS_1003_UNSUPPORTED_DATA, "the chat takes text only")


def parse_since(since: str | None) -> Position | None:
    if since is None:
        return None
    try:
        return Position.parse(since)
    except ValueError as exc:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, f"since: {exc}") from exc


@router.websocket("/ws/{client_id}")
async def chat(
    websocket: WebSocket,
    client_id: ClientId,
    hub: HubDep,
    limits: MessageLimitsDep,
    metrics: MetricsDep,
    # The guide's chat takes no credential; one that is sent (a ticket, say) must be valid.
    principal: OptionalPrincipalDep,
    room: Room = DEFAULT_ROOM,
    since: Since = None,
) -> None:
    position = parse_since(since)
    try:
        hub.broker.admit(room)
    except RoomsFull:
        metrics.refused("rooms_full", ChatMessages.endpoint)
        await refuse(websocket, SLOW_CLIENT_CLOSE_CODE, TOO_MANY_ROOMS)
        return
    async with hub.join(websocket, room, client_id, position) as member:
        handler = ChatMessages(hub, member)
        await serve_conversation(member.conversation, handler, limits, metrics)
