"""``GET /metrics`` (Prometheus), and the live server page's socket ``WS /api/live``.

Both follow ``app.observability.access``: loopback, or the metrics token. A browser elsewhere
cannot send the token on a WebSocket, so it trades it for a single-use ticket first
(``POST /api/live/tickets``), as the other pages do with their credentials.
"""

import asyncio
import contextlib
import os
import socket
import time
from collections import deque
from typing import Annotated

from fastapi import (
    APIRouter,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketException,
    status,
)

from app.conversation.loop import Conversation, Handler, serve_conversation
from app.conversation.messages import (
    BrokerNow,
    EndpointNow,
    RecentHappening,
    ServerStats,
)
from app.deps import HubDep, MessageLimitsDep, MetricsDep, SettingsDep, TicketsDep
from app.observability.access import OperatorDep, is_loopback, require_operator
from app.observability.metrics import Happening, Metrics
from app.routes.tickets import Ticket
from app.security.tickets import TicketGrant, TicketRefused, TicketStoreDown

router = APIRouter(tags=["observability"])

LIVE_ENDPOINT = "/api/live"
PROCESS = f"{socket.gethostname()}/{os.getpid()}"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
# The grant of a live-page ticket: it stands for the metrics token, not for a user.
OPERATOR = "operator"


@router.get("/metrics", include_in_schema=False)
async def metrics_text(_: OperatorDep, metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=PROMETHEUS_TEXT)


@router.post("/api/live/tickets", status_code=status.HTTP_201_CREATED)
async def live_ticket(
    _: OperatorDep, request: Request, settings: SettingsDep, tickets: TicketsDep
) -> Ticket:
    expires_at = time.time() + settings.ticket_ttl
    grant = TicketGrant(OPERATOR, LIVE_ENDPOINT, request.headers.get("origin"), expires_at)
    try:
        ticket = await tickets.issue(grant)
    except TicketStoreDown as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "try again") from exc
    return Ticket(ticket=ticket, endpoint=LIVE_ENDPOINT, expires_at=expires_at)


def snapshot(metrics: Metrics, hub_health: BrokerNow) -> ServerStats:
    endpoints = []
    for endpoint in metrics.stats:
        received, sent = metrics.rates.get(endpoint, (0.0, 0.0))
        open_now = sum(n for (name, _), n in metrics.open_now.items() if name == endpoint)
        endpoints.append(
            EndpointNow(
                endpoint=endpoint,
                open=open_now,
                received_per_second=round(received, 1),
                sent_per_second=round(sent, 1),
            )
        )

    def recent(happenings: "deque[Happening]") -> list[RecentHappening]:
        return [
            RecentHappening(at=happening.at, endpoint=happening.endpoint, what=happening.what)
            for happening in reversed(happenings)
        ]

    return ServerStats(
        process=PROCESS,
        endpoints=endpoints,
        broker=hub_health,
        disconnects=recent(metrics.recent.disconnects),
        refusals=recent(metrics.recent.refusals),
    )


class LivePage(Handler):
    """Pushes the server's numbers once a second; what the page sends is only pings."""

    endpoint = LIVE_ENDPOINT

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        pass


@router.websocket(LIVE_ENDPOINT)
async def live(
    websocket: WebSocket,
    settings: SettingsDep,
    tickets: TicketsDep,
    metrics: MetricsDep,
    hub: HubDep,
    limits: MessageLimitsDep,
    ticket: Annotated[str | None, Query(max_length=128)] = None,
) -> None:
    if ticket is not None:
        try:
            await tickets.redeem(ticket, LIVE_ENDPOINT, websocket.headers.get("origin"))
        except (TicketRefused, TicketStoreDown) as exc:
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, str(exc)) from exc
    elif not is_loopback(websocket):
        await require_operator(websocket, settings, websocket.headers.get("authorization"))
    conversation = Conversation(websocket, metrics.stats[LIVE_ENDPOINT])

    async def push_forever() -> None:
        while True:
            health = hub.broker.health()
            stats = snapshot(metrics, BrokerNow(kind=health.kind, connected=health.connected))
            await conversation.send(stats.model_dump_json())
            await asyncio.sleep(1.0)

    await conversation.accept()
    pushing = asyncio.create_task(push_forever())
    try:
        await serve_conversation(conversation, LivePage(), limits, metrics)
    finally:
        pushing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pushing
