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

from app.server.http_protocol import GuardedHttpProtocol
from app.server.websocket_protocol import GuardedWebSocketProtocol

__all__ = ["UVICORN_SEAM", "GuardedHttpProtocol", "GuardedWebSocketProtocol"]

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
