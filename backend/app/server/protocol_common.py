"""What both protocol classes share: how they find the app's limits, and how a peer is named."""

from typing import Any

from app.server.limits import TRANSPORT_STATE_KEY, TransportState, default_transport_state


def peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"


def transport_state_of(app_state: dict[str, Any]) -> TransportState:
    state = app_state.get(TRANSPORT_STATE_KEY)
    return state if isinstance(state, TransportState) else default_transport_state()
