"""The chat rooms of one process, joined to every other process through the broker.

Each connection has a bounded outbox drained by its own writer task: a broadcast only puts a
frame in each outbox, so one slow or stuck client cannot hold up the others (the guide's
``broadcast`` awaits each client in turn). A client whose outbox fills up is closed with 1013.
"""

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from app.chat.broker import Broker
from app.chat.events import ChatEvent
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation
from app.conversation.messages import Presence

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "chat:room:"
SLOW_CLIENT_CLOSE_CODE = 1013  # try again later: the client may reconnect once it keeps up


@dataclass(eq=False)
class Member:
    """One connection in one room."""

    conversation: Conversation
    room: str
    client_id: int
    key: str
    outbox: asyncio.Queue[str]
    writer: asyncio.Task[None] | None = None
    too_slow: bool = False
    sent_presence: tuple[int, ...] = field(default=())

    @property
    def websocket(self) -> WebSocket:
        return self.conversation.websocket

    @property
    def speaks_json(self) -> bool:
        return self.conversation.dialect is Dialect.JSON_V1

    def deliver(self, frame: str) -> bool:
        """Queues a frame for this client; False when its outbox is full."""
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True


class ChatHub:
    def __init__(
        self, broker: Broker, *, outbox_limit: int = 256, presence_interval: float = 10.0
    ) -> None:
        self.broker = broker
        self.node_id = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"
        self.outbox_limit = outbox_limit
        self.presence_interval = presence_interval
        self.rooms: dict[str, set[Member]] = {}
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        broker.on_message(self._on_broker_message)

    async def start(self) -> None:
        await self.broker.start()
        self._refresher = asyncio.create_task(self._refresh_presence_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in [*self._tasks]:
            task.cancel()
        await self.broker.stop()

    @contextlib.asynccontextmanager
    async def join(self, websocket: WebSocket, room: str, client_id: int) -> AsyncIterator[Member]:
        """Accepts the connection into the room, once the room hears every process. What the
        member's conversation sends goes through its outbox, in order with the room's events."""
        if room not in self.rooms:
            self.rooms[room] = set()
            await self.broker.subscribe(CHANNEL_PREFIX + room)

        async def through_outbox(frame: str) -> None:
            self.send_to(member, frame)

        member = Member(
            conversation=Conversation(websocket, send=through_outbox),
            room=room,
            client_id=client_id,
            key=f"{self.node_id}/{next(self._serial)}/{client_id}",
            outbox=asyncio.Queue(self.outbox_limit),
        )
        await member.conversation.accept()
        member.writer = asyncio.create_task(self._write(member))
        self.rooms.setdefault(room, set()).add(member)
        await self.broker.presence_add(room, member.key)
        await self._publish(ChatEvent.now("joined", room, client_id, self.node_id))
        try:
            yield member
        finally:
            member.writer.cancel()
            await self._leave(member)

    def send_to(self, member: Member, frame: str) -> None:
        """A frame for one client only, in order with what the room sends it."""
        if not member.deliver(frame):
            self._drop_slow(member)

    async def say(self, member: Member, text: str) -> None:
        await self._publish(
            ChatEvent.now("said", member.room, member.client_id, self.node_id, text)
        )

    # --- fan-out --------------------------------------------------------------------------------

    async def _publish(self, event: ChatEvent) -> None:
        self._fan_out(event)  # this process's clients at once, whatever the broker's state
        await self.broker.publish(CHANNEL_PREFIX + event.room, event.model_dump_json())
        if event.kind != "said":
            await self._push_presence(event.room)

    def _on_broker_message(self, channel: str, payload: str) -> None:
        try:
            event = ChatEvent.model_validate_json(payload)
        except ValidationError:
            logger.warning("chat: ignored a malformed event on %s", channel)
            return
        if event.origin == self.node_id or event.room not in self.rooms:
            return
        self._fan_out(event)
        if event.kind != "said":
            self._in_background(self._push_presence(event.room))

    def _fan_out(self, event: ChatEvent) -> None:
        members = self.rooms.get(event.room)
        if not members:
            return
        guide_text = event.as_guide_text()
        json_text: str | None = None  # rendered once, if anyone speaks JSON
        for member in [*members]:
            if member.speaks_json:
                json_text = json_text or event.as_json()
                frame: str | None = json_text
            else:
                frame = guide_text
            if frame is not None:
                self.send_to(member, frame)

    async def _write(self, member: Member) -> None:
        try:
            while True:
                await member.websocket.send_text(await member.outbox.get())
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client is gone; its reader ends the membership

    # --- leaving --------------------------------------------------------------------------------

    def _drop_slow(self, member: Member) -> None:
        if member.too_slow:
            return
        member.too_slow = True
        member.conversation.ended = True  # read nothing more from it
        logger.warning(
            "chat: client #%s in %r did not keep up (%d messages waiting): closing with %d",
            member.client_id,
            member.room,
            member.outbox.qsize(),
            SLOW_CLIENT_CLOSE_CODE,
        )
        if member.writer is not None:
            member.writer.cancel()
        self._in_background(self._close_slow(member))

    async def _close_slow(self, member: Member) -> None:
        await self._leave(member)
        # A stuck client may never take the close frame: do not wait on it for long.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                member.websocket.close(SLOW_CLIENT_CLOSE_CODE, "too slow: messages piled up"),
                timeout=1.0,
            )

    async def _leave(self, member: Member) -> None:
        """Once per member, whichever comes first: its client leaving, or being dropped."""
        members = self.rooms.get(member.room)
        if members is None or member not in members:
            return
        members.discard(member)
        if not members:
            del self.rooms[member.room]
            await self.broker.unsubscribe(CHANNEL_PREFIX + member.room)
        await self.broker.presence_remove(member.room, member.key)
        await self._publish(ChatEvent.now("left", member.room, member.client_id, self.node_id))

    # --- presence -------------------------------------------------------------------------------

    async def _push_presence(self, room: str) -> None:
        """Tells this process's JSON clients in the room who is online, when it changed."""
        members = [member for member in self.rooms.get(room, ()) if member.speaks_json]
        if not members:
            return
        online = tuple(sorted(await self.broker.online(room)))
        frame = Presence(room=room, online=list(online)).model_dump_json()
        for member in members:
            if member.sent_presence != online:
                member.sent_presence = online
                self.send_to(member, frame)

    async def _refresh_presence_forever(self) -> None:
        while True:
            await asyncio.sleep(self.presence_interval)
            for room, members in [*self.rooms.items()]:
                await self.broker.presence_refresh(room, [member.key for member in members])
                await self._push_presence(room)  # drops ghosts of processes that died

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)
