"""The chat's members in one process: each connection in a room, fed the room's events in
offset order through its outlet (``app.conversation.outlet``), and the room's set of them.

A broadcast only offers each member the event's frame, which is written at once or queued,
never awaited: one slow or stuck client cannot hold up the others (the guide's ``broadcast``
awaits each client in turn). A member whose queue is full, or who keeps too much waiting while
it catches up, is dropped (``ChatHub.drop_slow``).
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import WebSocket

from app.conversation.loop import Conversation
from app.rooms.events import RoomEvent
from app.server.wire import WireFrame

if TYPE_CHECKING:
    from app.chat.hub import ChatHub

# How long a member that takes nothing may hold up its own catch-up before it is dropped.
STALLED_SECONDS = 5.0


@dataclass(eq=False)
class Member:
    """One connection in one room."""

    hub: "ChatHub"
    conversation: Conversation
    room: str
    client_id: int
    # Its presence entry: this process, a serial, and the client id.
    key: str
    speaks_json: bool
    too_slow: bool = False
    # The last event this member has (epoch, offset): it skips any it is offered again.
    epoch: str = ""
    offset: int = -1
    # While it catches up from the history, the live events wait here (bounded in bytes).
    backlog: deque[RoomEvent] | None = None
    backlog_bytes: int = 0
    sent_presence: tuple[tuple[int, ...], bool] | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def websocket(self) -> WebSocket:
        return self.conversation.websocket

    def take(self, event: RoomEvent) -> None:
        """A live event; held back while the member catches up from the history."""
        if self.backlog is not None:
            self.backlog.append(event)
            self.backlog_bytes += len(event.text)
            if self.backlog_bytes > self.conversation.outlet.max_bytes:
                self.hub.drop_slow(self)
            return
        frame = self.frame_for(event)
        if frame is not None:
            self.deliver(frame)

    def frame_for(self, event: RoomEvent) -> WireFrame | None:
        """What the client gets for the event: None when it has it already, or when its
        dialect says nothing of it (the guide and joins)."""
        if event.offset <= self.offset and event.epoch == self.epoch:
            return None
        self.epoch, self.offset = event.epoch, event.offset
        return self.hub.renderer.frame(event, json=self.speaks_json)

    def deliver(self, frame: WireFrame) -> None:
        """Now or queued, never awaited; a member with no room left for it is dropped."""
        if not self.too_slow and not self.conversation.outlet.offer(frame):
            self.hub.drop_slow(self)

    async def send_paced(self, frame: WireFrame) -> None:
        """Waits for room: a catch-up of hundreds of events goes out as fast as the client
        takes them. A client that takes nothing for a while is dropped."""
        try:
            await self.conversation.outlet.send(frame, give_up_after=STALLED_SECONDS)
        except TimeoutError:
            self.hub.drop_slow(self)

    async def wait_for_room(self) -> None:
        """Before taking another message from this client: a client that sends faster than
        it reads the answers is slowed down (TCP pushes back on its sending), rather than
        dropped for its own replies. Only what the room sends can make it too slow."""
        try:
            await self.conversation.outlet.wait_for_room(give_up_after=STALLED_SECONDS)
        except TimeoutError:
            self.hub.drop_slow(self)


class RoomMembers:
    """This process's members of one room, the room feed's one subscriber: each event goes to
    the guide's members as one shared frame, and to the JSON members, who keep positions."""

    __slots__ = ("guide", "hub", "json")

    def __init__(self, hub: "ChatHub") -> None:
        self.hub = hub
        self.guide: set[Member] = set()
        self.json: set[Member] = set()

    def add(self, member: Member) -> None:
        (self.json if member.speaks_json else self.guide).add(member)

    def discard(self, member: Member) -> None:
        (self.json if member.speaks_json else self.guide).discard(member)

    def __contains__(self, member: object) -> bool:
        return member in self.guide or member in self.json

    def __len__(self) -> int:
        return len(self.guide) + len(self.json)

    def all(self) -> list[Member]:
        return [*self.guide, *self.json]

    def client_ids(self) -> set[int]:
        return {member.client_id for member in self.all()}

    def take(self, event: RoomEvent) -> None:
        if self.guide:
            # The guide's members never get a replay, so never a repeat: no positions to keep.
            frame = self.hub.renderer.frame(event, json=False)
            if frame is not None:
                for member in [*self.guide]:
                    member.deliver(frame)
        for member in [*self.json]:
            member.take(event)
