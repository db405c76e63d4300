"""A connection that does not keep up: closed with 1013, and cut off if it takes not even that.

Fan-out only offers frames to a connection's outlet; one that has no room left (or keeps too
much waiting while it catches up) is dropped here: all its subscriptions end at once, it is
closed with 1013 (try again later: it may reconnect and resume from its position), and if it
does not take the close frame within ``SLOW_CLIENT_GRACE`` its transport is reset, which frees
its buffers, ours and the kernel's.
"""

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from app.channels.subscribers import ConnectionEntry, Subscription
from app.conversation.loop import Conversation
from app.server.wire import transport_of
from app.vocabulary.close_codes import TRY_AGAIN_LATER

if TYPE_CHECKING:
    from app.channels.hub import ChannelHub

logger = logging.getLogger("app.channels.hub")

# How long a client closed for being slow has to take the close frame before it is cut off.
SLOW_CLIENT_GRACE = 1.0


class SlowConnections:
    def __init__(self, hub: "ChannelHub") -> None:
        self.hub = hub

    def drop(self, subscription: Subscription) -> None:
        """Its connection has no room left: closed with 1013, all its subscriptions ended."""
        conversation = subscription.conversation
        entry = self.hub.connection_entry(conversation)
        if entry is None or entry.dropping:
            return
        entry.dropping = True
        conversation.ended = True  # read nothing more from it
        conversation.close_code = TRY_AGAIN_LATER
        self.hub.metrics.dropped_slow_client()
        outlet = conversation.outlet
        logger.warning(
            "%s: a subscriber of %r did not keep up (%d messages, %d bytes waiting): "
            "closing with %d",
            conversation.websocket.url.path,
            subscription.channel,
            len(outlet.queue or ()),
            outlet.queued_bytes,
            TRY_AGAIN_LATER,
            extra={"close_code": TRY_AGAIN_LATER},
        )
        outlet.close()
        self.hub.in_background(self._close(conversation, entry))

    async def _close(self, conversation: Conversation, entry: ConnectionEntry) -> None:
        # A stuck client may never take the close frame: its buffers (ours and the kernel's)
        # stay held until the connection is cut, so it is, SLOW_CLIENT_GRACE after the 1013
        # was decided (one deadline for leaving, the close frame and the client's going).
        deadline = asyncio.get_running_loop().time() + SLOW_CLIENT_GRACE
        for subscription in [*entry.subscriptions.values()]:
            await self.hub.unsubscribe(subscription)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                with contextlib.suppress(Exception):
                    await conversation.websocket.close(
                        TRY_AGAIN_LATER, "too slow: messages piled up"
                    )
                await entry.gone.wait()
            return
        transport = transport_of(conversation.websocket.scope)
        if transport is not None:
            logger.info(
                "%s: a client took no close frame: connection aborted",
                conversation.websocket.url.path,
            )
            transport.abort()
