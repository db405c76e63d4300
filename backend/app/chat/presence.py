"""Who is in a room, as this process tells its JSON members: coalesced, and never a lie.

A list goes out at most once per ``interval`` per room, however many join or leave meanwhile
(pushing the whole list on every change costs a room of n members n² bytes as it fills up), and
only to members whose last list differs. A list always includes the members connected to this
process, and says ``complete: false`` while the broker cannot say who is connected elsewhere:
when it is away, or right after it came back empty, until every process had its presence
lifetime to re-register.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from app.conversation.messages import Presence
from app.server.wire import WireFrame

if TYPE_CHECKING:
    from app.chat.hub import ChatHub

# At most one presence list per room this often.
COALESCE_SECONDS = 0.5


class PresenceBoard:
    def __init__(
        self,
        hub: "ChatHub",
        in_background: Callable[[Coroutine[Any, Any, None]], None],
        interval: float = COALESCE_SECONDS,
    ) -> None:
        self.hub = hub
        self.interval = interval
        self._in_background = in_background
        self._due: set[str] = set()
        # Who was online elsewhere when the broker last answered, per room with members here.
        self._cluster: dict[str, set[int]] = {}

    def changed(self, room: str) -> None:
        """Someone joined or left: a list goes out within the interval, one for all changes."""
        if room in self._due:
            return
        self._due.add(room)
        self._in_background(self._push_soon(room))

    def forget(self, room: str) -> None:
        """The room has no members here any more."""
        self._cluster.pop(room, None)

    async def _push_soon(self, room: str) -> None:
        await asyncio.sleep(self.interval)
        self._due.discard(room)
        await self.push(room)

    async def push(self, room: str) -> None:
        """Tells this process's JSON members in the room who is online, when it changed."""
        members = self.hub.members.get(room)
        if members is None or not members.json:
            return  # the guide's dialect has no presence
        broker = self.hub.broker
        cluster = await broker.online(room)
        complete = cluster is not None and not broker.presence_settles_in()
        if cluster is None:
            cluster = self._cluster.get(room, set())
        elif room in self.hub.members:
            self._cluster[room] = cluster
        online = tuple(sorted(cluster | members.client_ids()))
        frame = WireFrame(
            Presence(room=room, online=list(online), complete=complete).model_dump_json()
        )
        for member in [*members.json]:
            if member.backlog is None and member.sent_presence != (online, complete):
                member.sent_presence = (online, complete)
                member.deliver(frame)
