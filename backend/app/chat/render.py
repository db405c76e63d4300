"""A room's events as each dialect shows them: the guide's lines, or ``realtime.json.v1``."""

from app.conversation.messages import ChatText, Joined, Left
from app.rooms.events import RoomEvent
from app.server.wire import WireFrame


def as_guide_text(event: RoomEvent) -> str | None:
    """The guide's plain-text message for it; the guide says nothing when someone joins."""
    if event.kind == "said":
        return f"Client #{event.client_id} says: {event.text}"
    if event.kind == "left":
        return f"Client #{event.client_id} left the chat"
    return None


def as_json(event: RoomEvent) -> str:
    """The ``realtime.json.v1`` message for it, with its position in the room."""
    room, client_id, at, epoch, offset = (
        event.room,
        event.client_id,
        event.at,
        event.epoch,
        event.offset,
    )
    message: ChatText | Joined | Left
    if event.kind == "said":
        message = ChatText(
            room=room,
            client_id=client_id,
            at=at,
            epoch=epoch,
            offset=offset,
            text=event.text,
            message_id=event.message_id,
        )
    elif event.kind == "joined":
        message = Joined(room=room, client_id=client_id, at=at, epoch=epoch, offset=offset)
    else:
        message = Left(room=room, client_id=client_id, at=at, epoch=epoch, offset=offset)
    return message.model_dump_json()


class Renderer:
    """Renders an event once per dialect, however many members a broadcast reaches: fan-out
    hands each of them the same frame, encoded once."""

    __slots__ = ("_event", "_guide", "_json")

    def __init__(self) -> None:
        self._event: RoomEvent | None = None
        self._guide: WireFrame | None = None
        self._json: WireFrame | None = None

    def frame(self, event: RoomEvent, *, json: bool) -> WireFrame | None:
        if event is not self._event:
            guide = as_guide_text(event)
            self._event, self._json = event, None
            self._guide = None if guide is None else WireFrame(guide)
        if not json:
            return self._guide
        if self._json is None:
            self._json = WireFrame(as_json(event))
        return self._json
