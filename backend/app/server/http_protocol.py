"""uvicorn's httptools protocol with the limits it lacks: a complete request head within
``APP_REQUEST_HEAD_TIMEOUT`` and ``APP_MAX_REQUEST_HEAD_SIZE`` (408, 414, 431), and the
connection cap checked before a WebSocket upgrade is handed on (503). ``app.server.protocols``
lists what the two classes rely on in uvicorn."""

import asyncio
import http
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.server.protocol_common import peer, transport_state_of
from app.server.websocket_protocol import GuardedWebSocketProtocol
from app.vocabulary.refusals import RefusalReason

logger = logging.getLogger("app.server")


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.transport_state = transport_state_of(app_state)
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
                peer(self.client),
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
            logger.debug("closed the idle connection of %s: not a byte", peer(self.client))
            self.transport.close()
            return
        self._refuse_head(408, f"no complete request within {self.head_timeout:g} s")

    def _refuse_oversized_head(self) -> None:
        if len(self.url) > self.max_head_size or not self.headers:
            self._refuse_head(414, f"request line over {self.max_head_size} bytes")
        else:
            self._refuse_head(431, f"request headers over {self.max_head_size} bytes")

    def _refuse_head(self, status: int, reason: str) -> None:
        logger.info("closed the connection of %s: %d %s", peer(self.client), status, reason)
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
