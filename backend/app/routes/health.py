"""``GET /api/health``: is chat shared across processes; ``GET /api/ready``: for load balancers."""

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from app.deps import HubDep, ReadinessDep
from app.security.credentials import OptionalPrincipalDep

router = APIRouter(prefix="/api", tags=["health"])


class ChatBroker(BaseModel):
    kind: Literal["memory", "redis"]
    connected: bool
    # With Redis: which ("single", "sentinel", "cluster"; to an operator with its addresses:
    # "sentinel mymaster via …"), how often it came back, and (to an operator) when and why it
    # last went away. Anyone may ask (a load balancer sends no credential): the addresses of
    # the Redis nodes, and the errors that name them, are an operator's to see.
    topology: str | None = None
    reconnects: int | None = None
    last_outage: str | None = None


class Health(BaseModel):
    # degraded: serving, but chat messages stay within this process until the broker returns
    status: Literal["ok", "degraded"]
    chat_broker: ChatBroker


@router.get("/health", response_model_exclude_none=True)
async def health(hub: HubDep, principal: OptionalPrincipalDep) -> Health:
    broker = hub.broker.health()
    operator = principal is not None and principal.has("operator")
    topology = broker.topology or None
    if topology is not None and not operator:
        topology = topology.split(" ", 1)[0]
    return Health(
        status="ok" if broker.connected else "degraded",
        chat_broker=ChatBroker(
            kind=broker.kind,
            connected=broker.connected,
            topology=topology,
            reconnects=broker.reconnects if broker.kind == "redis" else None,
            last_outage=broker.last_outage if operator else None,
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
