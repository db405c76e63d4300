"""How many rooms one process keeps: a client picks a room's name, so without a bound one
anonymous client could open rooms until memory (or Redis) runs out.

The ledger lists the rooms this process has used, the most recently used last. A new room
beyond ``max_rooms`` takes the place of the least recently used one that nobody here is in and
whose history may be forgotten (``forgettable``, which each broker decides); when none may
be, the new room is refused (``RoomsFull``) until one can.
"""

import time
from collections import OrderedDict
from collections.abc import Callable


class RoomsFull(RuntimeError):
    """This process keeps as many rooms as it may (APP_MAX_ROOMS)."""


class RoomLedger:
    def __init__(
        self,
        max_rooms: int,
        *,
        in_use: Callable[[str], bool],
        forgettable: Callable[[str, float], bool],
        forget: Callable[[str], None] = lambda _room: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_rooms = max_rooms
        self._in_use = in_use
        self._forgettable = forgettable
        self._forget = forget
        self._clock = clock
        # room -> when it was last used (the clock's seconds)
        self._rooms: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rooms)

    def __contains__(self, room: object) -> bool:
        return room in self._rooms

    def use(self, room: str) -> None:
        """Notes a use of ``room``; raises ``RoomsFull`` for a new room with no place left."""
        now = self._clock()
        if room in self._rooms:
            self._rooms[room] = now
            self._rooms.move_to_end(room)
            return
        if len(self._rooms) >= self.max_rooms:
            self._make_room(now)
        self._rooms[room] = now

    def _make_room(self, now: float) -> None:
        for candidate, last_used in self._rooms.items():
            if not self._in_use(candidate) and self._forgettable(candidate, now - last_used):
                del self._rooms[candidate]
                self._forget(candidate)
                return
        raise RoomsFull(f"this server keeps {self.max_rooms} rooms at most")
