"""uvicorn's protocol classes with the limits it lacks (``python -m app`` hands them to uvicorn).

Their limits come from the app (``app.server.limits``). They act on raw connections, before
there is any request for the ASGI app to see:

- A connection must send a complete request head within ``APP_REQUEST_HEAD_TIMEOUT``: one that
  connects and sends nothing, or trickles its headers (slowloris), is answered 408 and closed.
  uvicorn itself waits forever for a first request.
- A request head over ``APP_MAX_REQUEST_HEAD_SIZE`` is answered 414 (a long request line) or 431
  (long headers) and closed; httptools alone accepts headers of any size.
- At most ``APP_MAX_CONNECTIONS`` WebSockets per process: past it, a handshake gets 503 before
  any ASGI app runs. Without a cap, a flood of idle sockets runs the process out of file
  descriptors, and then it fails everyone (accept() errors, no socket to Redis).
- WebSocket message size (``APP_WS_MAX_MESSAGE_SIZE``, 1009 on the frame header), protocol
  pings (``APP_WS_PING_INTERVAL``, ``APP_WS_PING_TIMEOUT``) and permessage-deflate
  (``APP_WS_PERMESSAGE_DEFLATE``) come from the app's settings too, in place of uvicorn's own
  options.
- The app may write prebuilt frames (a broadcast encodes once), and abort a chat client too
  slow to take even a close frame, so that its buffers are freed: the scope extension
  ``app.transport`` (``app.server.wire``).
- A WebSocket handshake that the websockets library rejects (a request line or header over its
  8 KiB limit, say) gets the library's HTTP error response (414 or 431); uvicorn 0.54 never
  sends it and leaves the socket open with no answer.
"""

import asyncio
import http
import logging
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request

from app.server.limits import TRANSPORT_STATE_KEY, TransportState, default_transport_state
from app.server.wire import TRANSPORT_EXTENSION

logger = logging.getLogger("app.server")


class HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""


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
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, with the size checks around the parser.
        self._unset_keepalive_if_required()
        if self.refused:
            return
        if not self.head_complete:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            if not self.refused:
                raise
            return
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if not self.head_complete and self.head_bytes > self.max_head_size:
            self._refuse_oversized_head()

    # httptools callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_complete:  # the next request on a kept-alive connection
            self.head_complete = False
            self.head_bytes = 0
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self.head_complete = True
        self._stop_head_timer()
        head_size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if head_size > self.max_head_size:
            self._refuse_oversized_head()
            raise HeadRefused  # stops the parser: no request reaches the app
        super().on_headers_complete()

    def handle_websocket_upgrade(self) -> None:
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
        if not self.head_complete and not self.transport.is_closing():
            self._refuse(408, f"no complete request within {self.head_timeout:g} s")

    def _refuse_oversized_head(self) -> None:
        if len(self.url) > self.max_head_size or not self.headers:
            self._refuse(414, f"request line over {self.max_head_size} bytes")
        else:
            self._refuse(431, f"request headers over {self.max_head_size} bytes")

    def _refuse(self, status: int, reason: str) -> None:
        self.refused = True
        self.transport_state.on_refused("request_head")
        logger.info("closed the connection of %s: %d %s", _peer(self.client), status, reason)
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
        open_websockets = self.transport_state.open_websockets
        limit = self.transport_state.limits.max_connections
        if len(open_websockets) >= limit:
            # Before the app runs: a flood of sockets costs this much and no more.
            logger.warning(
                "refused a WebSocket from %s: %d open, the limit (APP_MAX_CONNECTIONS)",
                _peer(self.client),
                len(open_websockets),
            )
            self.transport_state.on_refused("connection_cap")
            response = self.conn.reject(503, "server busy: too many connections, try again later\n")
            self.handshake_initiated = self.handshake_complete = self.close_sent = True
            self.conn.send_response(response)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        open_websockets.add(self)
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

    async def drained(self) -> None:
        await self.writable.wait()

    # uvicorn pauses reading at every message and resumes once the app took it: two epoll
    # changes per message. Pausing only once this many wait keeps the same bound on what a
    # client can pile up, without the churn.
    RECEIVE_QUEUE_PAUSE_AT = 8

    def send_receive_event_to_app(self) -> None:
        # uvicorn's own, with the pause above (and the invalid UTF-8 case as uvicorn has it).
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.logger.exception("Invalid UTF-8 sequence received from client.")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        if not self.read_paused and self.queue.qsize() >= self.RECEIVE_QUEUE_PAUSE_AT:
            self.read_paused = True
            self.transport.pause_reading()

    async def receive(self) -> Any:
        message = await self.queue.get()
        if self.read_paused and self.queue.qsize() < self.RECEIVE_QUEUE_PAUSE_AT // 2:
            self.read_paused = False
            self.transport.resume_reading()
        return message

    def write_frame(self, frame: bytes) -> bool:
        """Writes a complete, prebuilt frame now; False when the connection cannot take it now
        (its buffers are full, or it is closing): then the caller waits (``drained``)."""
        if self.close_sent or not self.handshake_complete or not self.writable.is_set():
            return False
        if self.transport.is_closing():
            return False
        self.transport.write(frame)
        return True

    def abort(self) -> None:
        """Drops the connection at once, with whatever is still unsent."""
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport_state.open_websockets.discard(self)
        super().connection_lost(exc)

    def handle_parser_exception(self) -> None:
        closing = self.conn.close_sent
        # 1007 (invalid UTF-8) is already logged, once, by uvicorn (see app.quiet_logs).
        if closing is not None and closing.code != 1007:
            logger.info(
                "closed a WebSocket of %s: %d %s", _peer(self.client), closing.code, closing.reason
            )
        super().handle_parser_exception()

    def answer_refused_handshake(self) -> None:
        """Sends the HTTP error that websockets prepared when it refused the handshake request
        (a line over 8 KiB, too many headers); uvicorn never sends it and leaves the socket open.
        """
        if self.handshake_initiated or self.conn.handshake_exc is None:
            return
        logger.info(
            "refused a WebSocket handshake from %s: %s", _peer(self.client), self.conn.handshake_exc
        )
        self.handshake_initiated = self.handshake_complete = self.close_sent = True
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
