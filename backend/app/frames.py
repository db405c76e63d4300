"""Reading a WebSocket's messages as plain values, with a client's departure as a normal end."""

import asyncio
import logging
from collections.abc import AsyncIterator

from starlette.websockets import WebSocket

from app.security.rate_limit import TokenBucket
from app.settings import Settings

logger = logging.getLogger(__name__)


async def receive_frames(websocket: WebSocket) -> AsyncIterator[str | bytes]:
    """Yield each text (``str``) or binary (``bytes``) message until the client leaves.

    Unlike ``receive_text()``, a close is not an exception: the iteration just ends, so an
    ordinary disconnect leaves no traceback in the log. Messages beyond the connection's rate
    (``APP_WS_MESSAGES_PER_SECOND``) are not refused but wait their turn.
    """
    settings: Settings = websocket.app.state.settings
    bucket = TokenBucket(settings.ws_messages_per_second, settings.ws_message_burst)
    throttled = False
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            logger.debug("client left %s: code %s", websocket.url.path, message.get("code"))
            return
        wait = bucket.take()
        if wait > 0:
            if not throttled:
                throttled = True
                logger.info(
                    "throttling a client of %s: over %g messages/s",
                    websocket.url.path,
                    settings.ws_messages_per_second,
                )
            await asyncio.sleep(wait)
        text = message.get("text")
        if text is not None:
            yield text
        else:
            yield message["bytes"]
