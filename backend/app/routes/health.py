"""``GET /api/health``: is chat shared across processes; ``GET /api/ready``: for load balancers."""

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from app.deps import HubDep, ReadinessDep

router = APIRouter(prefix="/api", tags=["health"])


class ChatBroker(BaseModel):
    kind: Literal["memory", "redis"]
    connected: bool
    # With Redis: which ("single", "sentinel mymaster via …", "cluster via 6 seed nodes"),
    # how often it came back, and when and why it last went away (a failover, say).
    topology: str | None = None
    reconnects: int | None = None
    last_outage: str | None = None


class Health(BaseModel):
    # degraded: serving, but chat messages stay within this process until the broker returns
    status: Literal["ok", "degraded"]
    chat_broker: ChatBroker


@router.get("/health", response_model_exclude_none=True)
async def health(hub: HubDep) -> Health:
    broker = hub.broker.health()
    return Health(
        status="ok" if broker.connected else "degraded",
        chat_broker=ChatBroker(
            kind=broker.kind,
            connected=broker.connected,
            topology=broker.topology or None,
            reconnects=broker.reconnects if broker.kind == "redis" else None,
            last_outage=broker.last_outage,
        ),
    )


class Readiness(BaseModel):
    ready: bool


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(readiness: ReadinessDep, response: Response) -> Readiness:
    """Whether to send new clients here: 503 from SIGTERM on, while connections drain."""
    if not readiness.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=readiness.ready)
