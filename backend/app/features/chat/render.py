"""A chat room's events as each dialect of ``WS /ws/{client_id}`` shows them: the guide's lines,
or the chat's ``realtime.json.v1`` messages. Each renderer renders an event once, however many
members a broadcast reaches: fan-out hands each of them the same frame, encoded once."""

import json

from app.channels.events import ChannelEvent, NotRecovered, Position
from app.channels.subscribers import CachingRenderer
from app.features.chat.channel import room_of
from app.features.chat.messages import ChatText, Joined, Left, Presence, Sync
from app.server.wire import WireFrame


def text_of(event: ChannelEvent) -> str:
    text: str = json.loads(event.data).get("text", "")
    return text


def as_guide_text(event: ChannelEvent) -> str | None:
    """The guide's plain-text message for it; the guide says nothing when someone joins."""
    if event.kind == "published":
        return f"Client #{event.sender} says: {text_of(event)}"
    if event.kind == "left":
        return f"Client #{event.sender} left the chat"
    return None


def as_json(event: ChannelEvent) -> str:
    """The ``realtime.json.v1`` message for it, with its position in the room."""
    room, at, epoch, offset = room_of(event.channel), event.at, event.epoch, event.offset
    # A client number; 0 for a sender that is none (a service's subject, the server).
    sender = event.sender or ""
    client_id = int(sender) if sender.isascii() and sender.isdigit() else 0
    message: ChatText | Joined | Left
    if event.kind == "published":
        message = ChatText(
            room=room,
            client_id=client_id,
            at=at,
            epoch=epoch,
            offset=offset,
            text=text_of(event),
            message_id=event.message_id,
        )
    elif event.kind == "joined":
        message = Joined(room=room, client_id=client_id, at=at, epoch=epoch, offset=offset)
    else:
        message = Left(room=room, client_id=client_id, at=at, epoch=epoch, offset=offset)
    return message.model_dump_json()


class GuideChat(CachingRenderer):
    """The guide's lines: no positions, no history, no sync, no presence."""

    def render(self, event: ChannelEvent) -> WireFrame | None:
        text = as_guide_text(event)
        return None if text is None else WireFrame(text)


class ChatJson(CachingRenderer):
    """The chat's realtime.json.v1 messages, with positions, history, sync and presence."""

    positional = True

    def render(self, event: ChannelEvent) -> WireFrame | None:
        return WireFrame(as_json(event))

    def sync(
        self,
        channel: str,
        position: Position,
        recovered: bool,
        reason: NotRecovered | None,
        replayed: int,
    ) -> WireFrame | None:
        message = Sync(
            room=room_of(channel),
            epoch=position.epoch,
            offset=position.offset,
            recovered=recovered,
            reason=reason,
            replayed=replayed,
        )
        return WireFrame(message.model_dump_json())

    def presence(self, channel: str, online: tuple[str, ...], complete: bool) -> WireFrame | None:
        numbers = sorted(int(member) for member in online if member.isascii() and member.isdigit())
        message = Presence(room=room_of(channel), online=numbers, complete=complete)
        return WireFrame(message.model_dump_json())


# One of each for the whole process: the cache is what makes a fan-out encode once.
GUIDE_CHAT = GuideChat()
CHAT_JSON = ChatJson()
