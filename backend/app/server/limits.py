"""The limits that act on raw connections, handed by the app to uvicorn's protocol classes.

``create_app`` builds them from its settings and its lifespan yields them as lifespan state,
which uvicorn gives every protocol instance it makes (``app_state``). So the app's own settings
reach the transport, under ``python -m app`` and under the uvicorn command line alike, and a
test can build an app with a small cap or timeout and see it enforced, all in one process.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from app.settings import Settings
from app.vocabulary.refusals import RefusalReason

# The key of the lifespan state under which the protocol classes find their limits.
TRANSPORT_STATE_KEY = "app.transport"


@dataclass(frozen=True)
class TransportLimits:
    request_head_timeout: float
    max_request_head_size: int
    max_connections: int
    max_message_size: int
    ping_interval: float
    ping_timeout: float
    permessage_deflate: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> "TransportLimits":
        return cls(
            request_head_timeout=settings.request_head_timeout,
            max_request_head_size=settings.max_request_head_size,
            max_connections=settings.connection_limit(),
            max_message_size=settings.ws_max_message_size,
            ping_interval=settings.ws_ping_interval,
            ping_timeout=settings.ws_ping_timeout,
            permessage_deflate=settings.ws_permessage_deflate,
        )


@dataclass(eq=False)
class TransportState:
    """One app's limits and its count of open WebSockets (one event loop: no locking)."""

    limits: TransportLimits
    open_websockets: set[object] = field(default_factory=set)
    # Told of each refusal at this level: "connection_cap" or "request_head".
    on_refused: Callable[[RefusalReason], None] = lambda _reason: None


def default_transport_state() -> TransportState:
    """For an app that yields no state (lifespan off, or someone else's app): the defaults."""
    return TransportState(TransportLimits.from_settings(Settings.model_construct()))
