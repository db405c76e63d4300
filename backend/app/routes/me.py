"""``GET /api/me``: who the page is signed in as (its cookie's, or its bearer's principal), so
that it can follow that user's channels without a request that fails for guests."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.security.credentials import OptionalPrincipalDep

router = APIRouter(prefix="/api", tags=["session"])


class Me(BaseModel):
    # None for a guest.
    subject: str | None
    roles: list[str]


@router.get("/me")
async def me(principal: OptionalPrincipalDep) -> Me:
    if principal is None:
        return Me(subject=None, roles=[])
    return Me(subject=principal.subject, roles=sorted(principal.roles))
