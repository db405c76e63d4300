"""What the hub keeps while its broker (Redis) is away, to place once it returns: the guide
clients' messages (their dialect has no way to be told "send it again"). Joins and departures
are not kept here: the hub tells them once the broker is back (``ChannelHub._announce``).

Bounded in bytes and in count (``APP_CHAT_HELD_BYTES``): a guide client that would go beyond
is closed with 1013 before its message is echoed, so that nothing it was told was taken is
lost; nothing already kept is ever dropped.
"""

from collections import deque

from app.channels.events import EventDraft

# What a kept event costs beyond its text: 1,167 bytes measured with tracemalloc, rounded up.
DRAFT_OVERHEAD_BYTES = 1200


def held_size(draft: EventDraft) -> int:
    return DRAFT_OVERHEAD_BYTES + (len(draft.data) if draft.data.isascii() else 4 * len(draft.data))


class HeldEvents:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._drafts: deque[EventDraft] = deque()

    def __bool__(self) -> bool:
        return bool(self._drafts)

    def __len__(self) -> int:
        return len(self._drafts)

    def has_room_for(self, text: str) -> bool:
        size = DRAFT_OVERHEAD_BYTES + (len(text) if text.isascii() else 4 * len(text))
        return self.bytes + size <= self.max_bytes

    def keep(self, draft: EventDraft) -> None:
        """Kept in order behind what waits already (the caller checked ``has_room_for``; one
        message per connection may go past the bound, which the connection cap bounds)."""
        self._drafts.append(draft)
        self.bytes += held_size(draft)

    def oldest(self) -> EventDraft:
        return self._drafts[0]

    def placed_oldest(self) -> None:
        self.bytes -= held_size(self._drafts.popleft())
