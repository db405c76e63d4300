"""uvicorn's protocol classes with the limits it lacks (``python -m app`` hands them to uvicorn).

Their limits come from the app (``app.server.limits``). They act on raw connections, before
there is any request for the ASGI app to see:

- A connection must send a complete request head within ``APP_REQUEST_HEAD_TIMEOUT``: one that
  trickles its headers (slowloris) is answered 408 and closed. One that sends no byte at all (a
  browser's preconnection, never used) is closed without a word: it asked nothing, and it is no
  refusal. uvicorn itself waits forever for a first request.
- A request head over ``APP_MAX_REQUEST_HEAD_SIZE`` is answered 414 (a long request line) or 431
  (long headers) and closed; httptools alone accepts headers of any size.
- At most ``APP_MAX_CONNECTIONS`` WebSockets per process: past it, an upgrade request gets 503
  before any ASGI app runs. Without a cap, a flood of idle sockets runs the process out of file
  descriptors, and then it fails everyone (accept() errors, no socket to Redis).
- WebSocket message size (``APP_WS_MAX_MESSAGE_SIZE``, 1009 on the frame header), protocol
  pings (``APP_WS_PING_INTERVAL``, ``APP_WS_PING_TIMEOUT``) and permessage-deflate
  (``APP_WS_PERMESSAGE_DEFLATE``) come from the app's settings too, in place of uvicorn's own
  options.
- The app may write prebuilt frames (a broadcast encodes once), and abort a chat client too
  slow to take even a close frame, with a reset, so that its buffers are freed, the kernel's
  too: the scope extension ``app.transport`` (``app.server.wire``).
- A WebSocket handshake that the websockets library rejects (a request line or header over its
  8 KiB limit, say) gets the library's HTTP error response (414 or 431); uvicorn 0.54 never
  sends it and leaves the socket open with no answer.

Every override here wraps uvicorn's own method through ``super()``; what the classes count on
in uvicorn is listed once, in ``UVICORN_SEAM``, which ``tests/server/test_uvicorn_seam.py``
compares with the installed uvicorn.
"""

import asyncio
import contextlib
import http
import logging
import socket
import struct
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.protocol import State

from app.server.limits import TRANSPORT_STATE_KEY, TransportState, default_transport_state
from app.server.wire import TRANSPORT_EXTENSION
from app.vocabulary.refusals import RefusalReason

logger = logging.getLogger("app.server")

# What the classes below count on in uvicorn (0.54), beyond its documented options: each
# method they wrap or whose behaviour they build on, and why. No underscore-private name of
# uvicorn's is used. When uvicorn changes any of these, tests/server/test_uvicorn_seam.py fails
# and says what to re-review.
UVICORN_SEAM: dict[str, str] = {
    "HttpToolsProtocol.__init__": "defines the attributes read here: loop, transport, client, "
    "url and headers (the request head so far), parser (dropped at the upgrade)",
    "HttpToolsProtocol.connection_made": "wrapped: starts the head timer",
    "HttpToolsProtocol.connection_lost": "wrapped: stops the head timer",
    "HttpToolsProtocol.data_received": "wrapped: counts head bytes around it; it feeds the "
    "parser, answers a parser error with 400, and calls handle_websocket_upgrade on an upgrade",
    "HttpToolsProtocol.on_message_begin": "wrapped: restarts the head timer for the next "
    "request of a kept-alive connection; it resets url and headers",
    "HttpToolsProtocol.on_url": "fills url, whose size is checked",
    "HttpToolsProtocol.on_header": "fills headers, whose size is checked",
    "HttpToolsProtocol.on_headers_complete": "wrapped: not called for a head refused for its "
    "size, so that no request reaches the app",
    "HttpToolsProtocol.on_body": "wrapped: not called once the connection is refused",
    "HttpToolsProtocol.on_message_complete": "wrapped: not called once the connection is "
    "refused (it expects the request cycle that a refused head never gets)",
    "HttpToolsProtocol.handle_websocket_upgrade": "wrapped: the connection cap is checked "
    "before it; it makes the WebSocket protocol, feeds it the request at once and sets it on "
    "the transport, where the refused handshake is then answered",
    "WebSocketsSansIOProtocol.__init__": "defines conn (websockets' ServerProtocol, whose "
    "max_message_size and available_extensions are set here), ping_interval and ping_timeout "
    "(set here), queue, writable and read_paused",
    "WebSocketsSansIOProtocol.data_received": "never sends the response websockets prepared "
    "when it rejects a handshake request (hence answer_refused_handshake)",
    "WebSocketsSansIOProtocol.handle_connect": "wrapped: counts the connection; it sets scope "
    "only for a handshake handed to the app, with 'extensions' and a copy of 'state'",
    "WebSocketsSansIOProtocol.send_receive_event_to_app": "wrapped: counts the bytes of frames "
    "it joins into one message; it queues that message and pauses reading unless read_paused "
    "(the property below)",
    "WebSocketsSansIOProtocol.receive": "wrapped: uncounts the message's bytes; it resumes "
    "reading once the queue is empty, if read_paused",
    "WebSocketsSansIOProtocol.send": "resumes reading after the app's close, if read_paused; "
    "waits on writable before each message, as drained() does",
    "WebSocketsSansIOProtocol.pause_writing": "clears writable (write_frame, drained)",
    "WebSocketsSansIOProtocol.resume_writing": "sets writable (write_frame, drained)",
    "WebSocketsSansIOProtocol.shutdown": "only closes a connection with close_sent, which a "
    "refused handshake sets as uvicorn's own refusals do",
    "WebSocketsSansIOProtocol.connection_lost": "wrapped: uncounts the connection",
    "WebSocketsSansIOProtocol.handle_parser_exception": "wrapped: logs the close it sends",
}


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"


def _transport_state(app_state: dict[str, Any]) -> TransportState:
    state = app_state.get(TRANSPORT_STATE_KEY)
    return state if isinstance(state, TransportState) else default_transport_state()


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.transport_state = _transport_state(app_state)
        limits = self.transport_state.limits
        self.head_timeout = limits.request_head_timeout
        self.max_head_size = limits.max_request_head_size
        self.head_bytes = 0
        self.head_complete = False
        self.received_nothing = True
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # answered and closing: nothing more of it is parsed
        self.received_nothing = False
        if not self.head_complete:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.head_complete or self.refused or self.transport.is_closing():
            return
        if self.head_bytes > self.max_head_size:  # a head that never ends
            self._refuse_oversized_head()

    # httptools callbacks: once the connection is refused, the rest of what came with the
    # refused head is not handed on.
    def on_message_begin(self) -> None:
        if self.refused:
            return
        super().on_message_begin()
        if self.head_complete:  # the next request on a kept-alive connection
            self.head_complete = False
            self.head_bytes = 0
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.head_complete = True
        self._stop_head_timer()
        head_size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if head_size > self.max_head_size:
            self._refuse_oversized_head()
            return  # no request reaches the app
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.refused:
            super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        if self.refused:
            return
        open_websockets = len(self.transport_state.open_websockets)
        if open_websockets >= self.transport_state.limits.max_connections:
            # Before any WebSocket protocol or app runs: a flood of sockets costs this and no more.
            logger.warning(
                "refused a WebSocket from %s: %d open, the limit (APP_MAX_CONNECTIONS)",
                _peer(self.client),
                open_websockets,
            )
            busy = "server busy: too many connections, try again later"
            self._answer_and_close(503, busy, "connection_cap")
            return
        super().handle_websocket_upgrade()  # hands the request to the WebSocket protocol
        # Checked here, once per connection, rather than on each message the socket receives.
        websocket = self.transport.get_protocol()
        if isinstance(websocket, GuardedWebSocketProtocol):
            websocket.answer_refused_handshake()
        # This protocol is done with the connection; its parser and it refer to each other, a
        # cycle that only the garbage collector would free, some time later. Freed now.
        self.parser = None  # type: ignore[assignment]
        self._stop_head_timer()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._on_head_timeout)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _on_head_timeout(self) -> None:
        self.head_timer = None
        if self.head_complete or self.transport.is_closing():
            return
        if self.received_nothing:
            # A browser's preconnection that was never used: it asked nothing, so nothing is
            # answered, and it is no refusal (counted as one, every idle browser would show
            # as an attack). Closed as uvicorn closes a kept-alive connection that stays idle.
            logger.debug("closed the idle connection of %s: not a byte", _peer(self.client))
            self.transport.close()
            return
        self._refuse_head(408, f"no complete request within {self.head_timeout:g} s")

    def _refuse_oversized_head(self) -> None:
        if len(self.url) > self.max_head_size or not self.headers:
            self._refuse_head(414, f"request line over {self.max_head_size} bytes")
        else:
            self._refuse_head(431, f"request headers over {self.max_head_size} bytes")

    def _refuse_head(self, status: int, reason: str) -> None:
        logger.info("closed the connection of %s: %d %s", _peer(self.client), status, reason)
        self._answer_and_close(status, reason, "request_head")

    def _answer_and_close(self, status: int, reason: str, refusal: RefusalReason) -> None:
        self.refused = True
        self.transport_state.on_refused(refusal)
        self._stop_head_timer()
        body = f"{reason}\n".encode()
        phrase = http.HTTPStatus(status).phrase
        self.transport.write(
            f"HTTP/1.1 {status} {phrase}\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()


# SO_LINGER on, with no time to linger: closing the socket resets the connection (RST) and the
# kernel drops what it still holds for the peer, instead of retrying it from FIN-WAIT-1 for as
# long as the peer's window stays shut.
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
        self.transport_state = _transport_state(app_state)
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
                "closed a WebSocket of %s: %d %s", _peer(self.client), closing.code, closing.reason
            )
        super().handle_parser_exception()

    def answer_refused_handshake(self) -> None:
        """Sends the HTTP error that websockets prepared when it refused the handshake request
        (a line over 8 KiB, too many headers); uvicorn never sends it and leaves the socket open.
        """
        if self.conn.handshake_exc is None or self.transport.is_closing():
            return  # accepted, or refused and answered by uvicorn itself
        logger.info(
            "refused a WebSocket handshake from %s: %s", _peer(self.client), self.conn.handshake_exc
        )
        # As uvicorn's own refusals do: a shutdown() from now on only closes the connection.
        self.close_sent = True
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
