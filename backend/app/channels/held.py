"""What the hub keeps while its broker (Redis) is away, to place once it returns: the guide
clients' messages (their dialect has no way to be told "send it again"). Joins and departures
are not kept here: the hub tells them once the broker is back (``ChannelHub._announce``).

Bounded in bytes (``APP_CHAT_HELD_BYTES``), and so that no one client takes it all, at most an
eighth of it (64 KiB at least) for the messages of one client address: a guide client that
would go beyond either is closed with 1013 before its message is echoed, so that nothing it
was told was taken is lost; nothing already kept is ever dropped.
"""

from collections import Counter, deque

from app.channels.events import EventDraft

# What a kept event costs beyond its text: 1,167 bytes measured with tracemalloc, rounded up.
DRAFT_OVERHEAD_BYTES = 1200


def held_size(draft: EventDraft) -> int:
    return DRAFT_OVERHEAD_BYTES + (len(draft.data) if draft.data.isascii() else 4 * len(draft.data))


# One client address's share of what may be held: an eighth, and never less than this.
HOLDER_SHARE = 8
HOLDER_SHARE_FLOOR_BYTES = 64 * 1024


class HeldEvents:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_bytes_per_holder = max(max_bytes // HOLDER_SHARE, HOLDER_SHARE_FLOOR_BYTES)
        self.bytes = 0
        # Each draft with who sent it (a client address), and what each one holds.
        self._drafts: deque[tuple[EventDraft, str]] = deque()
        self._by_holder: Counter[str] = Counter()

    def __bool__(self) -> bool:
        return bool(self._drafts)

    def __len__(self) -> int:
        return len(self._drafts)

    def has_room_for(self, text: str, holder: str) -> bool:
        size = DRAFT_OVERHEAD_BYTES + (len(text) if text.isascii() else 4 * len(text))
        return (
            self.bytes + size <= self.max_bytes
            and self._by_holder[holder] + size <= self.max_bytes_per_holder
        )

    def keep(self, draft: EventDraft, holder: str) -> None:
        """Kept in order behind what waits already (the caller checked ``has_room_for``; one
        message per connection may go past the bound, which the connection cap bounds)."""
        self._drafts.append((draft, holder))
        size = held_size(draft)
        self.bytes += size
        self._by_holder[holder] += size

    def oldest(self) -> EventDraft:
        return self._drafts[0][0]

    def placed_oldest(self) -> None:
        draft, holder = self._drafts.popleft()
        size = held_size(draft)
        self.bytes -= size
        self._by_holder[holder] -= size
        if self._by_holder[holder] <= 0:
            del self._by_holder[holder]
