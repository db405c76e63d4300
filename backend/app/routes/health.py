"""``GET /api/health``: is chat shared across processes; ``GET /api/ready``: for load balancers."""

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.chat.hub import ChatHub

router = APIRouter(prefix="/api", tags=["health"])


class ChatBroker(BaseModel):
    kind: Literal["memory", "redis"]
    connected: bool


class Health(BaseModel):
    # degraded: serving, but chat messages stay within this process until the broker returns
    status: Literal["ok", "degraded"]
    chat_broker: ChatBroker


@router.get("/health")
async def health(request: Request) -> Health:
    hub: ChatHub = request.app.state.chat_hub
    broker = hub.broker.health()
    return Health(
        status="ok" if broker.connected else "degraded",
        chat_broker=ChatBroker(kind=broker.kind, connected=broker.connected),
    )


class Readiness(BaseModel):
    ready: bool


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Whether to send new clients here: 503 from SIGTERM on, while connections drain."""
    is_ready: bool = request.app.state.readiness.ready
    if not is_ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=is_ready)
