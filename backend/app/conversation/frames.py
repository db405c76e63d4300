"""Reading a WebSocket's messages as plain values, with a client's departure as a normal end."""

import asyncio
import logging

from starlette.types import Message
from starlette.websockets import WebSocket

from app.conversation.rate_limit import RateLimit, TokenBucket

logger = logging.getLogger(__name__)


class FrameReader:
    """Turns each ASGI message of a WebSocket into its text (``str``) or bytes, or ``None``
    once the client has left::

        reader = FrameReader(websocket, rate)
        while (frame := reader.frame(await websocket.receive())) is not None:
            if reader.wait:
                await reader.throttle()

    Unlike ``receive_text()``, a close is not an exception, so an ordinary disconnect leaves no
    traceback in the log. Messages beyond the bucket's rate are not refused but wait their
    turn. The loop awaits ``websocket.receive()`` itself rather than a method of ours: an idle
    connection then keeps no extra coroutine frame alive, and memory per idle connection is a
    measured goal (docs/benchmarks.md); for the same reason the token bucket is made with the
    first message, not before.
    """

    __slots__ = ("bucket", "close_code", "rate", "throttled", "wait", "websocket")

    def __init__(self, websocket: WebSocket, rate: RateLimit) -> None:
        self.websocket = websocket
        self.rate = rate
        self.bucket: TokenBucket | None = None
        self.throttled = False
        self.wait = 0.0
        # How the client closed: its close frame's code, or 1005/1006 without one.
        self.close_code = 1005

    def frame(self, message: Message) -> str | bytes | None:
        if message["type"] == "websocket.disconnect":
            self.close_code = message.get("code", 1005)
            logger.debug("client left %s: code %s", self.websocket.url.path, self.close_code)
            return None
        bucket = self.bucket
        if bucket is None:
            bucket = self.bucket = TokenBucket(self.rate.per_second, self.rate.burst)
        self.wait = bucket.take()
        text: str | None = message.get("text")
        if text is not None:
            return text
        data: bytes = message["bytes"]
        return data

    async def throttle(self) -> None:
        """Waits until the message just read is within the rate."""
        if not self.throttled:
            self.throttled = True
            logger.info(
                "throttling a client of %s: over %g messages/s",
                self.websocket.url.path,
                self.rate.per_second,
            )
        await asyncio.sleep(self.wait)
