"""What happens in a chat room, as processes tell each other through the broker."""

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.conversation.messages import ChatText, Joined, Left


class ChatEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["said", "joined", "left"]
    room: str
    client_id: int
    text: str = ""
    # Milliseconds since the epoch, on the clock of the process where it happened.
    at: float
    # The process it happened in: that process has delivered it to its own clients already.
    origin: str

    @classmethod
    def now(
        cls,
        kind: Literal["said", "joined", "left"],
        room: str,
        client_id: int,
        origin: str,
        text: str = "",
    ) -> "ChatEvent":
        return cls(
            kind=kind,
            room=room,
            client_id=client_id,
            text=text,
            at=time.time() * 1000,
            origin=origin,
        )

    def as_guide_text(self) -> str | None:
        """The guide's plain-text message for it; the guide says nothing when someone joins."""
        if self.kind == "said":
            return f"Client #{self.client_id} says: {self.text}"
        if self.kind == "left":
            return f"Client #{self.client_id} left the chat"
        return None

    def as_json(self) -> str:
        """The ``realtime.json.v1`` message for it."""
        if self.kind == "said":
            message: ChatText | Joined | Left = ChatText(
                room=self.room, client_id=self.client_id, text=self.text, at=self.at
            )
        elif self.kind == "joined":
            message = Joined(room=self.room, client_id=self.client_id, at=self.at)
        else:
            message = Left(room=self.room, client_id=self.client_id, at=self.at)
        return message.model_dump_json()
