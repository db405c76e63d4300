"""The application factory: ``uvicorn app.main:create_app --factory``, or ``python -m app``.

``create_app(settings)`` is the one place where settings enter the application: it builds each
part with what that part needs, and puts on ``app.state`` what routes reach through
``app.deps``. Everything below it is handed its values; nothing reads the environment.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIWebSocketRoute

from app.channels.broker import Broker
from app.channels.declarations import ChannelRegistry
from app.channels.history import HistoryLimits
from app.channels.hub import ChannelHub
from app.channels.memory_broker import InMemoryBroker
from app.channels.publisher import Publisher
from app.channels.redis_broker import RedisBroker
from app.conversation.loop import MessageLimits
from app.conversation.outlet import OutboxBudget, OutletLimits
from app.conversation.refusals import install_refusal_handlers
from app.features import Feature, discover
from app.observability.logs import ConnectionIds, configure_app_logging
from app.observability.metrics import Metrics
from app.routes import (
    config,
    echo,
    health,
    items,
    live,
    me,
    publish,
    realtime,
    session,
    tickets,
    tokens,
)
from app.security.headers import ResponseHeaders
from app.security.hosts import HostCheck
from app.security.origins import OriginCheck, OriginPolicy
from app.security.rate_limits import KeyedRateLimit
from app.security.tickets import InMemoryTickets, IssuanceLimits, RedisTickets, TicketStore
from app.server.limits import TRANSPORT_STATE_KEY, TransportLimits, TransportState
from app.server.shutdown import Readiness, drain_on_sigterm
from app.settings import Settings

logger = logging.getLogger("app")

# How far behind the hot path's counts /metrics may be.
METRICS_FLUSH_SECONDS = 1.0


def default_history(settings: Settings) -> HistoryLimits:
    return HistoryLimits(
        max_events=settings.room_history_events,
        max_bytes=settings.room_history_bytes,
        max_age=settings.room_history_seconds,
        replay_on_join=settings.room_history_on_join,
    )


def build_registry(settings: Settings, features: list[Feature] | None = None) -> ChannelRegistry:
    """Every channel the features declare (every feature in app.features by default)."""
    registry = ChannelRegistry(default_history(settings))
    for feature in discover() if features is None else features:
        for channel in feature.channels:
            registry.add(channel)
    return registry


def build_broker(settings: Settings, registry: ChannelRegistry) -> Broker:
    topology = settings.redis_topology()
    opening = KeyedRateLimit(
        settings.new_channels_per_second, 100 * settings.new_channels_per_second
    )
    if topology is None:
        return InMemoryBroker(
            registry.limits_for,
            max_channels=settings.max_rooms,
            opening=opening,
            total_bytes=settings.history_total_bytes,
        )
    return RedisBroker(
        topology,
        limits=registry.limits_for,
        max_channels=settings.max_rooms,
        opening=opening,
        total_bytes=settings.history_total_bytes,
        presence_ttl=settings.chat_presence_ttl,
    )


def build_outlet_limits(settings: Settings) -> OutletLimits:
    return OutletLimits(
        settings.chat_outbox_limit,
        settings.chat_outbox_bytes,
        OutboxBudget(settings.outbox_total_bytes),
    )


def build_tickets(settings: Settings) -> TicketStore:
    topology = settings.redis_topology()
    if topology is None:
        return InMemoryTickets(settings.max_tickets)
    return RedisTickets(topology)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    hub: ChannelHub = app.state.hub
    settings: Settings = app.state.settings
    metrics: Metrics = app.state.metrics
    restore_sigterm = drain_on_sigterm(app.state.readiness, settings.shutdown_drain_seconds)
    await hub.start()
    flushing = asyncio.create_task(flush_metrics_forever(metrics, hub))
    try:
        # Lifespan state reaches uvicorn's protocol instances: the transport's limits.
        yield {TRANSPORT_STATE_KEY: app.state.transport}
    finally:
        restore_sigterm()
        flushing.cancel()
        await hub.stop()
        await app.state.tickets.close()
        metrics.flush(lambda: False)
        metrics.close()


async def flush_metrics_forever(metrics: Metrics, hub: ChannelHub) -> None:
    while True:
        await asyncio.sleep(METRICS_FLUSH_SECONDS)
        metrics.flush(lambda: hub.broker.health().connected)


def include_router_flat(app: FastAPI, router: APIRouter) -> None:
    """Like ``app.include_router``, but a WebSocket route is the app's own: an included router
    adds coroutine frames that each open connection keeps alive for as long as it lasts, and
    memory per idle connection is a measured goal (docs/performance.md)."""
    websockets = [route for route in router.routes if isinstance(route, APIWebSocketRoute)]
    for route in websockets:
        app.add_api_websocket_route(route.path, route.endpoint, name=route.name)
    if len(websockets) < len(router.routes):
        http = APIRouter(routes=[r for r in router.routes if r not in websockets])
        app.include_router(http, prefix="")


# The project's own routes; features bring theirs (app.features).
ROUTES = (echo, items, live, realtime, publish, health, config, me, session, tokens, tickets)


def create_app(settings: Settings | None = None, features: list[Feature] | None = None) -> FastAPI:
    """The app, built from ``settings`` (the environment's by default) with ``features``
    (every package of ``app.features`` by default)."""
    settings = settings or Settings()
    features = discover() if features is None else features
    configure_app_logging(settings.log_level, settings.log_format)

    app = FastAPI(title="FastAPI + React real-time", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.readiness = Readiness()
    metrics = app.state.metrics = Metrics(enabled=settings.metrics, shared_dir=settings.metrics_dir)
    app.state.transport = TransportState(
        TransportLimits.from_settings(settings), on_refused=lambda reason: metrics.refused(reason)
    )
    app.state.message_limits = MessageLimits(
        max_bytes=settings.ws_max_message_size,
        per_second=settings.ws_messages_per_second,
        burst=settings.ws_message_burst,
        max_text_length=settings.ws_max_text_length,
    )
    app.state.tickets = build_tickets(settings)
    app.state.ticket_limits = IssuanceLimits(
        settings.tickets_per_second, settings.max_tickets, settings.ticket_ttl
    )
    origin_policy = app.state.origin_policy = OriginPolicy(settings.allowed_origins)
    app.state.outlet_limits = build_outlet_limits(settings)
    registry = app.state.channels = build_registry(settings, features)
    hub = app.state.hub = ChannelHub(
        build_broker(settings, registry),
        registry,
        held_bytes=settings.chat_held_bytes,
        presence_interval=settings.chat_presence_ttl / 3,
        metrics=metrics,
    )
    app.state.publisher = Publisher(hub)
    install_refusal_handlers(app, on_refused=metrics.refused)
    app.add_middleware(ResponseHeaders)
    app.add_middleware(OriginCheck, policy=origin_policy, on_refused=metrics.refused)
    app.add_middleware(
        HostCheck, allowed_hosts=settings.host_allowlist(), on_refused=metrics.refused
    )
    app.add_middleware(ConnectionIds)  # outermost: every log line of a connection has its id

    for router in (
        *(module.router for module in ROUTES),
        *(r for f in features for r in f.routers),
    ):
        include_router_flat(app, router)
    for route in app.routes:  # every WebSocket route counted, and listed, from the start
        if isinstance(route, APIWebSocketRoute):
            metrics.stats_for(route.path)

    # Last, and lowest in priority: the SPA, with index.html for client-side routes. Under
    # /assets/ only real files: a missing one is a 404 even for a browser navigation, never
    # the page with the asset's year-long cache lifetime.
    if (settings.frontend_dir / "index.html").is_file():
        if (settings.frontend_dir / "assets").is_dir():
            app.frontend("/assets", directory=settings.frontend_dir / "assets", fallback=None)
        app.frontend("/", directory=settings.frontend_dir, fallback="index.html")
    else:
        logger.warning(
            "no frontend build in %s: run `npm run build` (in development, Vite serves it)",
            settings.frontend_dir,
        )
    return app
