"""The chat's channel: ``chat:{room}``, anyone may follow it and say something, with presence
by client number (the guide's ``/ws/{client_id}``)."""

from pydantic import BaseModel, ConfigDict

from app.channels.declarations import Channel, anyone

DEFAULT_ROOM = "general"  # the guide's one chat
ROOM_PATTERN = r"[A-Za-z0-9_-]{1,32}"
# Ids as JavaScript numbers hold them exactly; the guide's own page uses Date.now().
MAX_CLIENT_ID = 2**53 - 1


class ChatLine(BaseModel):
    """What a member says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str


def is_client_number(member: str) -> bool:
    # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and other scripts'.
    return (
        member.isascii() and member.isdigit() and len(member) <= 16 and int(member) <= MAX_CLIENT_ID
    )


CHAT = Channel(
    "chat:{room}",
    payload=ChatLine,
    subscribe=anyone,
    publish=anyone,
    presence=True,
    member=is_client_number,
    parameters={"room": ROOM_PATTERN},
    description=(
        "A chat room: what its members say, and who joins and leaves (a member is a client "
        "number, one member however many connections it has). The guide's WS /ws/{client_id} "
        "follows it too."
    ),
)


def room_of(channel: str) -> str:
    return channel.removeprefix("chat:")
