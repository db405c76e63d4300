"""WebSocket subprotocols that a client may negotiate beyond the guide's plain contract.

A client that offers none gets exactly the behaviour of FastAPI's guide (see shared CONTRACT.md).
"""

from starlette.websockets import WebSocket

# The guide's text messages, unchanged, with one difference: a refusal (bad credentials, a
# malformed query) arrives as a close frame with its code and reason after the handshake,
# because a browser cannot see the code of a handshake that was refused with HTTP 403.
TEXT_V1 = "realtime.text.v1"
# Typed JSON messages (app/messages.py, docs/protocol.md): the same conversation with message
# ids, an application-level ping for round-trip times and dead peers, and typed errors.
JSON_V1 = "realtime.json.v1"

SUPPORTED_SUBPROTOCOLS = frozenset({TEXT_V1, JSON_V1})


def negotiated_subprotocol(websocket: WebSocket) -> str | None:
    """The first subprotocol, in the client's order of preference, that the server speaks."""
    for offered in websocket.scope.get("subprotocols", ()):
        if offered in SUPPORTED_SUBPROTOCOLS:
            return str(offered)
    return None
