"""``GET /metrics`` (Prometheus), and the live server page's socket ``WS /api/live``.

Both need the ``operator`` role (``OperatorDep``): the operator's token (``APP_METRICS_TOKEN``)
as a bearer, or a signed token with that role. A browser cannot send a header on a WebSocket,
so the page trades the token for a single-use ticket first (``POST /api/ws-tickets``), as the
other pages do with their credentials; the ticket carries the role.
"""

import asyncio
import contextlib
import os
import socket
from collections import deque

from fastapi import APIRouter, Response, WebSocket

from app.conversation.description import speaks
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.deps import HubDep, MetricsDep, start_conversation
from app.observability.metrics import Happening, Metrics
from app.observability.server_stats import BrokerNow, EndpointNow, RecentHappening, ServerStats
from app.security.credentials import OperatorDep

router = APIRouter(tags=["observability"])

LIVE_ENDPOINT = "/api/live"
PROCESS = f"{socket.gethostname()}/{os.getpid()}"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics", include_in_schema=False)
async def metrics_text(_: OperatorDep, metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=PROMETHEUS_TEXT)


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

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        pass


@router.websocket(LIVE_ENDPOINT)
@speaks(sends=[ServerStats], text=False)
async def live(
    websocket: WebSocket,
    _: OperatorDep,
    hub: HubDep,
) -> None:
    """The live server page: this process's numbers, once a second (the operator role)."""
    conversation, limits, metrics = start_conversation(websocket)

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
