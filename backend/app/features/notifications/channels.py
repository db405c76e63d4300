"""The notifications' channels: each user's own (``user:{subject}``, which that user alone may
follow), and the announcements to everyone (``announcements``). Neither takes a publish over a
connection: notifications are sent through ``POST /api/notifications`` (who sends one is then
known for sure), announcements from a shell (``python -m app publish announcements``) or by a
service with the publisher role (``POST /api/channels/announcements/events``)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.channels.declarations import Channel, anyone, nobody, owner
from app.channels.history import HistoryLimits

WEEK = 7 * 24 * 3600.0
SUBJECT = r"[A-Za-z0-9_.@+-]{1,64}"


class Notification(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Who sent it (their subject), as the server knows it: never what the request claims.
    sender: Annotated[str, Field(min_length=1, max_length=64)]
    text: Annotated[str, Field(min_length=1, max_length=500)]


class Announcement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, Field(min_length=1, max_length=2000)]


NOTIFICATIONS = Channel(
    "user:{subject}",
    payload=Notification,
    subscribe=owner("subject"),
    publish=nobody,
    # A subject as logins make them, an e-mail address among them.
    parameters={"subject": SUBJECT},
    history=HistoryLimits(max_events=100, max_bytes=512 * 1024, max_age=WEEK, replay_on_join=20),
    description="A user's notifications: what others sent them. Only that user may follow it.",
)

ANNOUNCEMENTS = Channel(
    "announcements",
    payload=Announcement,
    subscribe=anyone,
    publish=nobody,
    history=HistoryLimits(max_events=50, max_bytes=256 * 1024, max_age=WEEK, replay_on_join=5),
    description="Announcements to everyone, posted by an operator or a publishing service.",
)
