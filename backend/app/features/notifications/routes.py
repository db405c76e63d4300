"""``POST /api/notifications``: a signed-in user sends another a notification, published from
this route to the recipient's channel (``user:{subject}``), on every process."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app.channels.events import ChannelUnavailable
from app.channels.publisher import PublisherDep
from app.features.notifications.channels import NOTIFICATIONS, SUBJECT, Notification
from app.security.credentials import UserDep
from app.security.rate_limits import KeyedRateLimit, too_many

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

# Per sender: a user cannot flood another's bell (its history keeps 100 at most anyway).
SENDS = KeyedRateLimit(per_second=2, burst=10)


class NotificationRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    # As the channel's parameter takes it (ASCII: \w would let any letter through).
    # Exactly the subjects a user's channel takes (user:{subject}).
    to: Annotated[str, Field(min_length=1, max_length=64, pattern=f"^{SUBJECT}$")]
    text: Annotated[str, Field(min_length=1, max_length=500)]


class Sent(BaseModel):
    channel: str
    epoch: str
    offset: int


@router.post("", status_code=status.HTTP_201_CREATED)
async def send_notification(
    body: NotificationRequest, sender: UserDep, publisher: PublisherDep
) -> Sent:
    if wait := SENDS.take(sender.subject):
        raise too_many(wait, "too many notifications sent: try again in a moment")
    channel = NOTIFICATIONS.name(subject=body.to)
    try:
        position = await publisher.publish(
            channel, Notification(sender=sender.subject, text=body.text), sender=sender.subject
        )
    except ChannelUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the notification could not be sent right now: try again",
            headers={"Retry-After": "2"},
        ) from exc
    return Sent(channel=channel, epoch=position.epoch, offset=position.offset)
