"""``GET /api/health``: whether the process serves."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


@router.get("/health")
async def health() -> Health:
    return Health(status="ok")
