"""``POST /api/channels/{name}/events``: another service publishes to a channel over HTTP.

It needs the ``publisher`` role (a signed token with it: ``python -m app token billing --role
publisher``), sends the payload as ``{"data": {...}}``, and may name an ``Idempotency-Key``:
the same key again, while the channel holds the event, answers with the same position and
places nothing. 201 with the position once every process can hear it; 503 when the channel
cannot take it now (nothing was placed: send it again, with the same key).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.channels.events import ChannelUnavailable, OutcomeUnknown
from app.channels.ledger import ChannelsFull
from app.channels.publisher import InvalidPayload, PublisherDep, UnknownChannel
from app.security.credentials import PublisherRoleDep

router = APIRouter(prefix="/api/channels", tags=["channels"])


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class Published(BaseModel):
    channel: str
    epoch: str
    offset: int
    # True when the idempotency key named an event the channel held already.
    duplicate: bool


@router.post("/{name}/events", status_code=status.HTTP_201_CREATED)
async def publish_event(
    name: Annotated[str, Field(max_length=160)],
    body: PublishRequest,
    publisher_principal: PublisherRoleDep,
    publisher: PublisherDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=64, pattern=r"^[\w.:-]+$")] = None,
) -> Published:
    try:
        position, duplicate = await publisher.publish_reporting(
            name, body.data, sender=publisher_principal.subject, idempotency_key=idempotency_key
        )
    except UnknownChannel as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except InvalidPayload as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"data: {exc}") from exc
    except OutcomeUnknown as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the channel's broker did not answer in time: the event may or may not have been "
            "placed; send it again with the same Idempotency-Key, which places it at most once",
            headers={"Retry-After": "2"},
        ) from exc
    except (ChannelUnavailable, ChannelsFull) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the channel cannot take events right now (nothing was placed): send it again",
            headers={"Retry-After": "2"},
        ) from exc
    if duplicate:
        response.status_code = status.HTTP_200_OK
    return Published(
        channel=name, epoch=position.epoch, offset=position.offset, duplicate=duplicate
    )
