"""``POST /api/ws-tickets``: a single-use ticket that opens one WebSocket (app/security/tickets.py).

The page asks with its session cookie, or a program with ``Authorization: Bearer``; the ticket
then goes in the socket's URL (``?ticket=``) instead of a long-lived credential. It is issued
only to a principal that the endpoint would admit (the role its route requires), to a page of
an allowed origin, and at a bounded rate per client address and per subject.
"""

import time
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.routing import BaseRoute, Match

from app.deps import SettingsDep, TicketsDep
from app.security.credentials import PrincipalDep, missing_credentials, role_required_by
from app.security.origins import OriginPolicy
from app.security.rate_limits import too_many
from app.security.tickets import (
    IssuanceLimits,
    TicketGrant,
    TicketStoreDown,
    TicketStoreFull,
)

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


def websocket_route_at(request: Request, path: str) -> BaseRoute | None:
    """The app's WebSocket route that serves this path, if any."""
    # Only WebSocket routes match a WebSocket scope in full (the SPA answers HTTP only).
    scope = {"type": "websocket", "path": path, "root_path": "", "headers": []}
    for route in request.app.router.routes:
        if route.matches(scope)[0] is Match.FULL:
            return route  # type: ignore[no-any-return]
    return None


def origin_entry(request: Request) -> str | None:
    """The allowlist entry of the asking page's origin; None for a program that sent none."""
    origin = request.headers.get("origin")
    if origin is None:
        return None
    policy: OriginPolicy = request.app.state.origin_policy
    entry = policy.entry_for(origin, request.headers.get("host", ""), request.url.scheme)
    if entry is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this page's origin may not open sockets on this server"
        )
    return entry


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(
    body: TicketRequest,
    request: Request,
    principal: PrincipalDep,
    settings: SettingsDep,
    tickets: TicketsDep,
) -> Ticket:
    route = websocket_route_at(request, body.endpoint)
    if route is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no WebSocket at {body.endpoint[:100]}")
    role = role_required_by(route)
    if role is not None and not principal.has(role):
        if principal.by_address:
            missing_credentials(request)  # it sent none: let in as an operator by its address
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{body.endpoint[:100]} needs the {role} role, which the credential lacks",
        )
    origin = origin_entry(request)
    limits: IssuanceLimits = request.app.state.ticket_limits
    address = request.client.host if request.client else ""
    if wait := limits.wait(address, principal.subject):
        raise too_many(wait, "too many tickets asked for: try again in a moment")
    expires_at = time.time() + settings.ticket_ttl
    grant = TicketGrant(principal, body.endpoint, origin, expires_at)
    try:
        ticket = await tickets.issue(grant)
    except TicketStoreDown as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "tickets cannot be issued right now: try again"
        ) from exc
    except TicketStoreFull as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many tickets outstanding on this server: try again in a moment",
            headers={"Retry-After": "5"},
        ) from exc
    return Ticket(ticket=ticket, endpoint=body.endpoint, expires_at=expires_at)
