"""The dependencies that routes declare, each once, as an ``Annotated`` alias.

``create_app`` puts what it built from the settings on ``app.state``; these are the only
readers of it (beside the layers' own: ``settings_of``, ``tickets_of``, ``publisher_of``).
Typed on ``HTTPConnection``, so HTTP and WebSocket routes share them. They are ``async def``
although they await nothing: FastAPI runs a plain ``def`` dependency in a thread pool, which
for every WebSocket costs a thread hop and memory that lasts the connection.
"""

from typing import Annotated

from fastapi import Depends, WebSocket
from starlette.requests import HTTPConnection

from app.channels.declarations import ChannelRegistry
from app.channels.hub import ChannelHub
from app.conversation.loop import Conversation, MessageLimits
from app.observability.endpoints import endpoint_of
from app.observability.metrics import Metrics
from app.security.tickets import TicketStore, tickets_of
from app.server.shutdown import Readiness
from app.settings import Settings, settings_of


async def get_message_limits(connection: HTTPConnection) -> MessageLimits:
    limits: MessageLimits = connection.app.state.message_limits
    return limits


async def get_hub(connection: HTTPConnection) -> ChannelHub:
    hub: ChannelHub = connection.app.state.hub
    return hub


async def get_registry(connection: HTTPConnection) -> ChannelRegistry:
    registry: ChannelRegistry = connection.app.state.channels
    return registry


async def get_metrics(connection: HTTPConnection) -> Metrics:
    metrics: Metrics = connection.app.state.metrics
    return metrics


async def get_readiness(connection: HTTPConnection) -> Readiness:
    readiness: Readiness = connection.app.state.readiness
    return readiness


SettingsDep = Annotated[Settings, Depends(settings_of)]
MessageLimitsDep = Annotated[MessageLimits, Depends(get_message_limits)]
HubDep = Annotated[ChannelHub, Depends(get_hub)]
RegistryDep = Annotated[ChannelRegistry, Depends(get_registry)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
TicketsDep = Annotated[TicketStore, Depends(tickets_of)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def start_conversation(websocket: WebSocket) -> tuple[Conversation, MessageLimits, Metrics]:
    """A conversation for the WebSocket route serving ``websocket``, counted under the route's
    template, with the app's limits: for a route to call rather than declare, since FastAPI
    keeps each declared dependency's solved values for as long as the route runs, which for a
    WebSocket is its whole life (memory per idle connection is a measured goal)."""
    state = websocket.app.state
    metrics: Metrics = state.metrics
    endpoint = endpoint_of(websocket.scope)  # a template: a closed set
    conversation = Conversation(websocket, metrics.stats_for(endpoint), state.outlet_limits)
    return conversation, state.message_limits, metrics
