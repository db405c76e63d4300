"""Reading a WebSocket's messages as plain values, with a client's departure as a normal end."""

import logging
from collections.abc import AsyncIterator

from starlette.websockets import WebSocket

logger = logging.getLogger(__name__)


async def receive_frames(websocket: WebSocket) -> AsyncIterator[str | bytes]:
    """Yield each text (``str``) or binary (``bytes``) message until the client leaves.

    Unlike ``receive_text()``, a close is not an exception: the iteration just ends, so an
    ordinary disconnect leaves no traceback in the log.
    """
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            logger.debug("client left %s: code %s", websocket.url.path, message.get("code"))
            return
        text = message.get("text")
        if text is not None:
            yield text
        else:
            yield message["bytes"]
