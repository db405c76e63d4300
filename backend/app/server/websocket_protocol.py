"""uvicorn's websockets-sansio protocol with the app's limits (message size, pings,
permessage-deflate), reading paused once 8 messages or 64 KiB wait for the app, and the
``app.transport`` extension: prebuilt frames written as they are, and a reset for a client cut
off. ``app.server.protocols`` lists what the two classes rely on in uvicorn."""

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.protocol import State

from app.server.limits import TRANSPORT_STATE_KEY
from app.server.protocol_common import peer, transport_state_of
from app.server.wire import TRANSPORT_EXTENSION

logger = logging.getLogger("app.server")


RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.transport_state = transport_state_of(app_state)
        self.raw_frames = False
        # Bytes of the messages waiting for the app (see read_paused).
        self.queued_bytes = 0
        limits = self.transport_state.limits
        self.conn.max_message_size = limits.max_message_size
        self.ping_interval = limits.ping_interval
        self.ping_timeout = limits.ping_timeout
        if not limits.permessage_deflate:
            self.conn.available_extensions = []
        elif not self.conn.available_extensions:  # uvicorn's own choice of window and memory
            self.conn.available_extensions = [
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=12,
                    client_max_window_bits=12,
                    compress_settings={"memLevel": 5},
                )
            ]

    def handle_connect(self, event: Request) -> None:
        self.transport_state.open_websockets.add(self)
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the handshake went on to the app
            # What ASGI has no message for: writing a prebuilt frame (a broadcast hands every
            # connection the same bytes), and cutting off a client that takes nothing, not
            # even a close frame, so that its buffers are freed.
            scope["extensions"][TRANSPORT_EXTENSION] = self
            if len(scope["state"]) == 1 and TRANSPORT_STATE_KEY in scope["state"]:
                # uvicorn copies the lifespan state into every connection's scope; ours is
                # for the protocol classes alone, and a one-entry dict costs each idle
                # connection more than an empty one.
                scope["state"] = {}
            # Not with permessage-deflate, which compresses each connection its own way.
            self.raw_frames = not self.conn.extensions

    # uvicorn pauses reading after every message it queues for the app, unless read_paused
    # says it is paused already, and resumes once the app has taken them all: two epoll
    # changes per message. Seen through this property, reading counts as paused while fewer
    # than this many messages wait, so uvicorn pauses only once that many do (the same bound
    # on what a client can pile up, without the churn), and resumes only if it did pause.
    RECEIVE_QUEUE_PAUSE_AT = 8
    # ... or once this many bytes wait, whatever their count: eight messages of 64 KiB would
    # be half a MiB per connection, which a few thousand connections make gigabytes.
    RECEIVE_QUEUE_PAUSE_BYTES = 64 * 1024

    @property
    def read_paused(self) -> bool:
        return self.transport_paused or (
            0 < self.queue.qsize() < self.RECEIVE_QUEUE_PAUSE_AT
            and self.queued_bytes < self.RECEIVE_QUEUE_PAUSE_BYTES
        )

    @read_paused.setter
    def read_paused(self, paused: bool) -> None:
        # uvicorn sets it as it pauses or resumes the transport's reading.
        self.transport_paused = paused

    def send_receive_event_to_app(self) -> None:
        # Counted before uvicorn queues the message, since it consults read_paused right after.
        size = sum(len(frame) for frame in self.frames)
        waiting = self.queue.qsize()
        self.queued_bytes += size
        super().send_receive_event_to_app()
        if self.queue.qsize() == waiting:  # not queued (closing, or not UTF-8)
            self.queued_bytes -= size

    async def receive(self) -> Any:
        message = await super().receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                self.queued_bytes -= len(text) if text.isascii() else len(text.encode())
            else:
                self.queued_bytes -= len(message.get("bytes") or b"")
        return message

    async def drained(self) -> None:
        await self.writable.wait()

    def write_frame(self, frame: bytes) -> bool:
        """Writes a complete, prebuilt frame now; False when the connection cannot take it now
        (its buffers are full, or it is not open): then the caller waits (``drained``)."""
        if self.conn.state is not State.OPEN or not self.writable.is_set():
            return False
        if self.transport.is_closing():
            return False
        self.transport.write(frame)
        return True

    def abort(self) -> None:
        """Drops the connection at once with a reset, and whatever is still unsent with it:
        ours, and what the kernel holds (megabytes, for a client that stopped reading)."""
        if self not in self.transport_state.open_websockets:
            return  # lost already: its socket is closed, and its number may be another's now
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport_state.open_websockets.discard(self)
        super().connection_lost(exc)

    def handle_parser_exception(self) -> None:
        closing = self.conn.close_sent
        # 1007 (invalid UTF-8) is already logged, once, by uvicorn (see app.observability.logs).
        if closing is not None and closing.code != 1007:
            logger.info(
                "closed a WebSocket of %s: %d %s", peer(self.client), closing.code, closing.reason
            )
        super().handle_parser_exception()

    def answer_refused_handshake(self) -> None:
        """Sends the HTTP error that websockets prepared when it refused the handshake request
        (a line over 8 KiB, too many headers); uvicorn never sends it and leaves the socket open.
        """
        if self.conn.handshake_exc is None or self.transport.is_closing():
            return  # accepted, or refused and answered by uvicorn itself
        logger.info(
            "refused a WebSocket handshake from %s: %s", peer(self.client), self.conn.handshake_exc
        )
        # As uvicorn's own refusals do: a shutdown() from now on only closes the connection.
        self.close_sent = True
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
