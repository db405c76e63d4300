"""What a connection speaks: the guide's plain text, or one of the subprotocols we add.

A client that offers no subprotocol gets exactly the behaviour of FastAPI's guide
(docs/contract.md). The dialect is decided once per connection, at its handshake, by the
``Conversation`` (conversation/loop.py), which carries it for the loop, the handlers and the
chat hub; a connection refused before it has one is told in the dialect it asked for.
"""

import enum

from starlette.requests import HTTPConnection


class Dialect(enum.Enum):
    # The guide's text messages; a refusal is a refused handshake (HTTP 403).
    GUIDE = None
    # The same text messages, but a refusal (bad credentials, a malformed query) arrives as a
    # close frame with its code and reason after the handshake: a browser cannot see the code
    # of a handshake that was refused.
    TEXT_V1 = "realtime.text.v1"
    # Typed JSON messages (conversation/messages.py, docs/protocol.md): ids, an application
    # ping for round-trip times and dead peers, and typed errors.
    JSON_V1 = "realtime.json.v1"

    @property
    def subprotocol(self) -> str | None:
        """What the server answers in ``Sec-WebSocket-Protocol``."""
        value: str | None = self.value
        return value


SUBPROTOCOLS = {dialect.value: dialect for dialect in Dialect if dialect.value is not None}


def dialect_of(connection: HTTPConnection) -> Dialect:
    """The first subprotocol, in the client's order of preference, that the server speaks.
    (Not cached in the scope: a key more there costs every idle connection a larger table.)"""
    offered = (SUBPROTOCOLS.get(name) for name in connection.scope.get("subprotocols", ()))
    return next((found for found in offered if found is not None), Dialect.GUIDE)
