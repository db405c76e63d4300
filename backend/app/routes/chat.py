"""``WS /ws/{client_id}``: the guide's chat (CONTRACT.md section 3), in rooms, across processes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, WebSocket, status

from app.chat.hub import ChatHub, Member
from app.conversation import refused_as_too_big
from app.frames import FrameReader
from app.messages import Error, Ping, Pong, Reply, parse_client_message
from app.protocol import JSON_V1, negotiated_subprotocol
from app.refusals import refuse

router = APIRouter(tags=["chat"])

DEFAULT_ROOM = "general"  # the guide's one chat
# Ids as JavaScript numbers hold them exactly; the guide's own page uses Date.now().
MAX_CLIENT_ID = 2**53 - 1


def get_hub(websocket: WebSocket) -> ChatHub:
    hub: ChatHub = websocket.app.state.chat_hub
    return hub


HubDep = Annotated[ChatHub, Depends(get_hub)]
ClientId = Annotated[int, Path(ge=0, le=MAX_CLIENT_ID)]
Room = Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


@router.websocket("/ws/{client_id}")
async def chat(
    websocket: WebSocket, client_id: ClientId, hub: HubDep, room: Room = DEFAULT_ROOM
) -> None:
    subprotocol = negotiated_subprotocol(websocket)
    speaks_json = subprotocol == JSON_V1
    async with hub.join(
        websocket, room, client_id, subprotocol=subprotocol, speaks_json=speaks_json
    ) as member:
        reader = FrameReader(websocket)
        while (frame := reader.frame(await websocket.receive())) is not None:
            if reader.wait:
                await reader.throttle()
            if isinstance(frame, bytes):
                await refuse(websocket, status.WS_1003_UNSUPPORTED_DATA, "the chat takes text only")
                return
            if member.too_slow:
                return
            if not speaks_json:
                hub.send_to(member, f"You wrote: {frame}")
                await hub.say(member, frame)
            elif not await _take_json(hub, member, frame):
                return


async def _take_json(hub: ChatHub, member: Member, frame: str) -> bool:
    """One ``realtime.json.v1`` message from a chat client; False when the connection closed."""
    if await refused_as_too_big(member.websocket, frame):
        return False
    message = parse_client_message(frame)
    # Through the outbox, not straight to the socket: replies stay in order with broadcasts.
    if isinstance(message, Error):
        hub.send_to(member, message.model_dump_json())
    elif isinstance(message, Ping):
        hub.send_to(member, Pong(id=message.id, sent_at=message.sent_at).model_dump_json())
    else:
        reply = Reply(text=f"You wrote: {message.text}", reply_to=message.id)
        hub.send_to(member, reply.model_dump_json())
        await hub.say(member, message.text)
    return True
