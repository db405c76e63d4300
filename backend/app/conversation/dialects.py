"""What a connection speaks: the guide's plain text, or one of the subprotocols we add.

A client that offers no subprotocol gets exactly the behaviour of FastAPI's guide
(docs/contract.md). The dialect is decided once per connection, at its handshake, and kept in
the connection's scope, where the loop, the refusals and the chat hub find it.
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
_SCOPE_KEY = "app.dialect"


def dialect_of(connection: HTTPConnection) -> Dialect:
    """The first subprotocol, in the client's order of preference, that the server speaks."""
    scope = connection.scope
    dialect: Dialect | None = scope.get(_SCOPE_KEY)
    if dialect is None:
        offered = (SUBPROTOCOLS.get(name) for name in scope.get("subprotocols", ()))
        dialect = next((found for found in offered if found is not None), Dialect.GUIDE)
        scope[_SCOPE_KEY] = dialect
    return dialect
