"""``GET /api/config``: the limits a client must respect, so that the frontend holds no copy;
``GET /api/asyncapi.json``: the WebSocket API, described (app/asyncapi.py)."""

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.asyncapi import asyncapi_document
from app.deps import RegistryDep, SettingsDep

router = APIRouter(prefix="/api", tags=["config"])


class ChannelInfo(BaseModel):
    pattern: str
    presence: bool
    description: str


class ClientConfig(BaseModel):
    # The largest WebSocket message, in bytes (a bigger one is closed with 1009).
    max_message_bytes: int
    # The longest text in one realtime.json.v1 message, in characters.
    max_text_length: int
    # The longest session cookie or token, in characters.
    max_credential_length: int
    # Whether tokens must be signed by this server (POST /api/tokens).
    signed_tokens: bool
    # Whether POST /api/tokens mints them (APP_DEV_TOKEN_MINTING, off in production).
    token_minting: bool
    # The channels a page may follow on WS /ws/realtime, and how many at once.
    channels: list[ChannelInfo]
    channels_per_connection: int


@router.get("/config")
async def client_config(settings: SettingsDep, registry: RegistryDep) -> ClientConfig:
    return ClientConfig(
        max_message_bytes=settings.ws_max_message_size,
        max_text_length=settings.ws_max_text_length,
        max_credential_length=settings.max_credential_length,
        signed_tokens=settings.token_secret is not None,
        token_minting=settings.token_secret is not None and settings.dev_token_minting,
        channels=[
            ChannelInfo(
                pattern=channel.pattern, presence=channel.presence, description=channel.description
            )
            for channel in registry
        ],
        channels_per_connection=settings.channels_per_connection,
    )


@router.get("/asyncapi.json")
async def asyncapi(request: Request) -> dict[str, Any]:
    """The WebSocket API of this app, as AsyncAPI 3.0: made once, from its routes and channels."""
    document: dict[str, Any] | None = getattr(request.app.state, "asyncapi", None)
    if document is None:
        document = request.app.state.asyncapi = asyncapi_document(request.app)
    return document
