"""``WS /ws/{client_id}``: the guide's chat (docs/contract.md, section 3), in rooms, across
processes, with history and recovery for ``realtime.json.v1`` clients. It follows the room's
channel (``chat:{room}``) as the guide's client numbers do; the Chat page follows the same
channel over the multiplexed endpoint, so both kinds of client meet in one room."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, WebSocket, WebSocketException, status

from app.channels.connections import HubConnection
from app.channels.events import ChannelUnavailable, Position
from app.channels.hub import ChannelHub
from app.channels.ledger import ChannelsFull, OpeningTooFast
from app.channels.publisher import dedup_key
from app.conversation.description import speaks
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.conversation.messages import Error
from app.conversation.refusals import refuse
from app.deps import HubDep, start_conversation
from app.features.chat.channel import CHAT, DEFAULT_ROOM, MAX_CLIENT_ID, ROOM_PATTERN, ChatLine
from app.features.chat.messages import CHAT_SERVER_MESSAGES, Ack
from app.features.chat.render import CHAT_JSON, GUIDE_CHAT
from app.security.credentials import OptionalPrincipalDep
from app.vocabulary.close_codes import TRY_AGAIN_LATER

router = APIRouter(tags=["chat"])

ROOM_UNAVAILABLE = "the room cannot take messages right now: send it again in a moment"
CANNOT_KEEP = "the room cannot keep what you say right now: try again later"
TOO_MANY_ROOMS = "this server keeps as many rooms as it may: try again later"

ClientId = Annotated[int, Path(ge=0, le=MAX_CLIENT_ID)]
Room = Annotated[str, Query(pattern=f"^{ROOM_PATTERN}$")]
# A realtime.json.v1 client's last position in the room, to resume from: "epoch:offset".
Since = Annotated[str | None, Query(max_length=80)]


class ChatMessages(Handler):
    def __init__(self, hub: ChannelHub, connection: HubConnection, channel: str, member: str):
        self.hub = hub
        self.connection = connection
        self.channel = channel
        self.member = member

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await self.connection.wait_for_room()
        data = ChatLine(text=text).model_dump_json()
        if conversation.dialect is not Dialect.JSON_V1:
            holder = conversation.address or ""
            if not self.hub.can_hold(data, holder):
                # Closed before the echo: nothing it was told was taken is ever lost.
                await conversation.close(TRY_AGAIN_LATER, CANNOT_KEEP)
                return
            await conversation.reply(f"You wrote: {text}", message_id)  # the guide's echo
            # While the room is away the hub keeps the message, and places it on its return.
            with contextlib.suppress(ChannelUnavailable):
                await self.hub.publish(
                    self.channel, data, sender=self.member, hold=True, holder=holder
                )
            return
        assert message_id is not None  # realtime.json.v1 messages always have one
        try:
            event = await self.hub.publish(
                self.channel,
                data,
                sender=self.member,
                message_id=message_id,
                dedup=dedup_key(conversation.sender_key, message_id),
            )
        except ChannelUnavailable:
            error = Error(code="room_unavailable", detail=ROOM_UNAVAILABLE, reply_to=message_id)
            await conversation.send(error.model_dump_json())
            return
        ack = Ack(
            reply_to=message_id, room=self.channel[5:], epoch=event.epoch, offset=event.offset
        )
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
@speaks(sends=CHAT_SERVER_MESSAGES)
async def chat(
    websocket: WebSocket,
    client_id: ClientId,
    hub: HubDep,
    # The guide's chat takes no credential; one that is sent (a ticket, say) must be valid.
    principal: OptionalPrincipalDep,
    room: Room = DEFAULT_ROOM,
    since: Since = None,
) -> None:
    """The guide's chat, in rooms, across processes: the guide's clients get `You wrote: X`,
    `Client #A says: X` and `Client #A left the chat`; realtime.json.v1 clients get every
    event with its position, the history on joining or what they missed since `since`,
    acknowledgements, and presence (a number connected twice is one member)."""
    position = parse_since(since)
    conversation, limits, metrics = start_conversation(websocket)
    channel = CHAT.name(room=room)
    try:
        hub.broker.admit(channel, opener=conversation.address)
    except ChannelsFull as exc:
        metrics.refused("rooms_full", conversation.stats.endpoint)
        opening = isinstance(exc, OpeningTooFast)
        await refuse(websocket, TRY_AGAIN_LATER, str(exc) if opening else TOO_MANY_ROOMS)
        return
    await conversation.accept()
    json_dialect = conversation.dialect is Dialect.JSON_V1
    member = str(client_id)
    async with hub.connection(conversation) as connection:
        await connection.subscribe(
            channel, CHAT_JSON if json_dialect else GUIDE_CHAT, since=position, member=member
        )
        handler = ChatMessages(hub, connection, channel, member)
        await serve_conversation(conversation, handler, limits, metrics)
