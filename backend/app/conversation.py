"""One WebSocket conversation, in whichever subprotocol the client negotiated.

An endpoint says only what it answers to a text message (``Replies``); this module speaks the
guide's plain text, ``realtime.text.v1`` and ``realtime.json.v1`` around it.
"""

from collections.abc import Callable, Iterable
from typing import Literal

from fastapi import WebSocket, WebSocketDisconnect, status

from app.frames import FrameReader
from app.messages import (
    MAX_JSON_MESSAGE_BYTES,
    Error,
    Ping,
    Pong,
    Reply,
    parse_client_message,
)
from app.protocol import JSON_V1, negotiated_subprotocol
from app.refusals import refuse

Replies = Callable[[str], Iterable[str]]


async def serve_conversation(
    websocket: WebSocket, replies: Replies, *, binary: Literal["echo", "refuse"]
) -> None:
    subprotocol = negotiated_subprotocol(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        reader = FrameReader(websocket)
        while (frame := reader.frame(await websocket.receive())) is not None:
            if reader.wait:
                await reader.throttle()
            if isinstance(frame, bytes):
                if binary == "echo":
                    await websocket.send_bytes(frame)
                    continue
                await refuse(
                    websocket, status.WS_1003_UNSUPPORTED_DATA, "this endpoint takes text only"
                )
                return
            if subprotocol != JSON_V1:
                for line in replies(frame):
                    await websocket.send_text(line)
            elif not await _answer_json(websocket, frame, replies):
                return
    except WebSocketDisconnect:
        pass  # the client left while we were answering: nothing to do


async def refused_as_too_big(websocket: WebSocket, frame: str) -> bool:
    """Closes with 1009 a ``realtime.json.v1`` message over the limit."""
    # 4 bytes per character at most: most messages skip the encoding.
    if len(frame) * 4 <= MAX_JSON_MESSAGE_BYTES or len(frame.encode()) <= MAX_JSON_MESSAGE_BYTES:
        return False
    await refuse(
        websocket,
        status.WS_1009_MESSAGE_TOO_BIG,
        f"message too big: the limit is {MAX_JSON_MESSAGE_BYTES} bytes",
    )
    return True


async def _answer_json(websocket: WebSocket, frame: str, replies: Replies) -> bool:
    """Answer one ``realtime.json.v1`` message; False when the connection was closed."""
    if await refused_as_too_big(websocket, frame):
        return False
    message = parse_client_message(frame)
    if isinstance(message, Error):
        await websocket.send_text(message.model_dump_json())
    elif isinstance(message, Ping):
        await websocket.send_text(Pong(id=message.id, sent_at=message.sent_at).model_dump_json())
    else:
        for line in replies(message.text):
            await websocket.send_text(Reply(text=line, reply_to=message.id).model_dump_json())
    return True
