"""``GET /api/health``: whether the process serves, and whether chat reaches other processes."""

from typing import Literal

from fastapi import APIRouter, Request
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
