"""The dependencies that routes declare, each once, as an ``Annotated`` alias.

``create_app`` puts what it built from the settings on ``app.state``; these are the only
readers of it. Typed on ``HTTPConnection``, so HTTP and WebSocket routes share them. They are
``async def`` although they await nothing: FastAPI runs a plain ``def`` dependency in a thread
pool, which for every WebSocket costs a thread hop and memory that lasts the connection.
"""

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app.chat.hub import ChatHub
from app.conversation.loop import MessageLimits
from app.conversation.outlet import OutletLimits
from app.observability.metrics import Metrics
from app.security.tickets import TicketStore, tickets_of
from app.server.shutdown import Readiness
from app.settings import Settings, settings_of


async def get_message_limits(connection: HTTPConnection) -> MessageLimits:
    limits: MessageLimits = connection.app.state.message_limits
    return limits


async def get_hub(connection: HTTPConnection) -> ChatHub:
    hub: ChatHub = connection.app.state.chat_hub
    return hub


async def get_metrics(connection: HTTPConnection) -> Metrics:
    metrics: Metrics = connection.app.state.metrics
    return metrics


async def get_readiness(connection: HTTPConnection) -> Readiness:
    readiness: Readiness = connection.app.state.readiness
    return readiness


SettingsDep = Annotated[Settings, Depends(settings_of)]
MessageLimitsDep = Annotated[MessageLimits, Depends(get_message_limits)]
HubDep = Annotated[ChatHub, Depends(get_hub)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
TicketsDep = Annotated[TicketStore, Depends(tickets_of)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def conversation_services(
    connection: HTTPConnection,
) -> tuple[MessageLimits, Metrics, OutletLimits]:
    """The limits and metrics of a conversation, for a route to call rather than declare:
    FastAPI keeps each declared dependency's solved values for as long as the route runs,
    which for a WebSocket is its whole life (memory per idle connection is a measured goal)."""
    state = connection.app.state
    return state.message_limits, state.metrics, state.outlet_limits
