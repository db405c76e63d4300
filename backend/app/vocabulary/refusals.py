"""Why a connection is refused, in words every layer shares."""

from collections.abc import Callable
from typing import Literal

from fastapi import WebSocketException

# Why a handshake was refused, as a metrics label: a closed set.
RefusalReason = Literal[
    "host",
    "origin",
    "credentials",
    "invalid_request",
    "connection_cap",
    "request_head",
    "policy",
    "rooms_full",
]

# Told of each refusal: (why; the path it was refused at).
OnRefused = Callable[[RefusalReason, str], None]

# RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of them the code.
MAX_CLOSE_REASON_BYTES = 123


def clip_close_reason(reason: str) -> str:
    """The reason cut to what fits in a close frame, never splitting a character."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


class CredentialRefused(WebSocketException):
    """A handshake refused for its credentials (counted apart from other refusals)."""
