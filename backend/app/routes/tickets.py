"""``POST /api/ws-tickets``: a single-use ticket that opens one WebSocket (app/security/tickets.py).

The page asks with its session cookie, or a program with ``Authorization: Bearer``; the ticket
then goes in the socket's URL (``?ticket=``) instead of a long-lived credential.
"""

import time
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.routing import Match

from app.deps import SettingsDep, TicketsDep
from app.security.credentials import CredentialDep
from app.security.tickets import TicketGrant, TicketStoreDown

router = APIRouter(prefix="/api/ws-tickets", tags=["tickets"])


class TicketRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    # The path of the WebSocket it is for, as the page will open it: "/items/foo/ws".
    endpoint: Annotated[str, Field(min_length=1, max_length=512)]

    @field_validator("endpoint")
    @classmethod
    def must_be_a_path(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value or "#" in value:
            raise ValueError("must be the socket's path, without a query: /items/foo/ws")
        # Percent-decoded, as the path of the WebSocket's scope will be.
        return unquote(value)


class Ticket(BaseModel):
    ticket: str
    endpoint: str
    # Seconds since the epoch.
    expires_at: float


def is_websocket_endpoint(request: Request, path: str) -> bool:
    """Whether one of the app's WebSocket routes serves this path."""
    # Only WebSocket routes match a WebSocket scope in full (the SPA answers HTTP only).
    scope = {"type": "websocket", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(
    body: TicketRequest,
    request: Request,
    credential: CredentialDep,
    settings: SettingsDep,
    tickets: TicketsDep,
) -> Ticket:
    if not is_websocket_endpoint(request, body.endpoint):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no WebSocket at {body.endpoint[:100]}")
    expires_at = time.time() + settings.ticket_ttl
    grant = TicketGrant(credential, body.endpoint, request.headers.get("origin"), expires_at)
    try:
        ticket = await tickets.issue(grant)
    except TicketStoreDown as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "tickets cannot be issued right now: try again"
        ) from exc
    return Ticket(ticket=ticket, endpoint=body.endpoint, expires_at=expires_at)
