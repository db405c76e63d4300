"""The chat rooms of one process, joined to every other process through the broker.

Every event of a room (said, joined, left) is placed by the broker at an offset in the room's
history before anyone hears it, and every process feeds its own members from the broker in
offset order (``app.rooms.feed``). A ``realtime.json.v1`` member that joins gets the recent
history, or what it missed since the position it gave, before the live events; the guide's
plain-text members get exactly the guide's lines and nothing else.

Each connection has a bounded outbox drained by its own writer task: a broadcast only puts a
frame in each outbox, so one slow or stuck client cannot hold up the others (the guide's
``broadcast`` awaits each client in turn). A client whose outbox fills up is closed with 1013,
or, if it does not take even the close frame, its connection is aborted.
"""

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from app.chat.render import Renderer
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation
from app.conversation.messages import Presence, Sync
from app.observability.metrics import Metrics
from app.rooms.broker import Broker
from app.rooms.events import EventDraft, NotRecovered, Position, RoomEvent, RoomUnavailable
from app.rooms.feed import RoomFeed
from app.server.wire import WireFrame, transport_of

logger = logging.getLogger(__name__)

CHAT_ENDPOINT = "/ws/{client_id}"
SLOW_CLIENT_CLOSE_CODE = 1013  # try again later: the client may reconnect once it keeps up
# How long a client closed for being slow has to take the close frame before it is cut off.
SLOW_CLIENT_GRACE = 1.0
# Events the process keeps for the room while the broker is away (guide clients' messages,
# departures), placed when it returns.
UNPLACED_LIMIT = 10_000


@dataclass(eq=False)
class Member:
    """One connection in one room."""

    hub: "ChatHub"
    conversation: Conversation
    room: str
    client_id: int
    key: str
    outbox: asyncio.Queue[WireFrame]
    speaks_json: bool
    # The transport's writes of prebuilt frames (app.server.protocols), when it offers them.
    write_frame: Callable[[bytes], bool] | None = None
    transport_drained: Callable[[], Awaitable[object]] | None = None
    writer: asyncio.Task[None] | None = None
    # Frames wait in the outbox, or the writer holds one: nothing may overtake them.
    backed_up: bool = False
    too_slow: bool = False
    # The last event this member has (epoch, offset): it skips any it is offered again.
    epoch: str = ""
    offset: int = -1
    # While it catches up from the history, the live events wait here.
    backlog: deque[RoomEvent] | None = None
    sent_presence: tuple[tuple[int, ...], bool] | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    # Set while the outbox is at most half full (see wait_for_room).
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def websocket(self) -> WebSocket:
        return self.conversation.websocket

    def take(self, event: RoomEvent) -> None:
        """A live event; held back while the member catches up from the history."""
        if self.backlog is not None:
            self.backlog.append(event)
            if len(self.backlog) > self.hub.backlog_limit:
                self.hub.drop_slow(self)
            return
        frame = self.frame_for(event)
        if frame is not None:
            self.hub.send_to(self, frame)

    def frame_for(self, event: RoomEvent) -> WireFrame | None:
        """What the client gets for the event: None when it has it already, or when its
        dialect says nothing of it (the guide and joins)."""
        if event.offset <= self.offset and event.epoch == self.epoch:
            return None
        self.epoch, self.offset = event.epoch, event.offset
        return self.hub.renderer.frame(event, json=self.speaks_json)

    def deliver(self, frame: WireFrame) -> bool:
        """At once, when the connection can take it and nothing waits before it; otherwise
        queued for the writer. False when the outbox is full."""
        write = self.write_frame
        if not self.backed_up and write is not None and write(frame.frame):
            return True
        return self.enqueue(frame)

    def enqueue(self, frame: WireFrame) -> bool:
        """For the writer, behind what waits already; False when the outbox is full."""
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        self.backed_up = True
        return True

    async def send_paced(self, frame: WireFrame) -> None:
        """Waits for room in the outbox: a catch-up of hundreds of events goes out as fast as
        the client takes them. A client that takes nothing for a while is dropped."""
        write = self.write_frame
        if not self.backed_up and write is not None and write(frame.frame):
            return
        self.backed_up = True
        try:
            await asyncio.wait_for(self.outbox.put(frame), timeout=5 * SLOW_CLIENT_GRACE)
        except TimeoutError:
            self.hub.drop_slow(self)

    async def wait_for_room(self) -> None:
        """Before taking another message from this client: a client that sends faster than
        it reads the answers is slowed down (TCP pushes back on its sending), rather than
        dropped for its own replies. Only what the room sends can make it too slow."""
        if self.outbox.qsize() > self.outbox.maxsize // 2:
            self.drained.clear()
            try:
                await asyncio.wait_for(self.drained.wait(), timeout=5 * SLOW_CLIENT_GRACE)
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

    def take(self, event: RoomEvent) -> None:
        if self.guide:
            # The guide's members never get a replay, so never a repeat: no positions to keep.
            frame = self.hub.renderer.frame(event, json=False)
            if frame is not None:
                self.hub.broadcast(self.guide, frame)
        for member in [*self.json]:
            member.take(event)


class ChatHub:
    def __init__(
        self,
        broker: Broker,
        *,
        outbox_limit: int = 256,
        presence_interval: float = 10 / 3,
        metrics: Metrics | None = None,
    ) -> None:
        self.broker = broker
        self.metrics = metrics or Metrics(enabled=False)
        self.stats = self.metrics.stats[CHAT_ENDPOINT]
        self._connected_before = False
        self.node_id = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"
        self.outbox_limit = outbox_limit
        # Live events held for a member while it catches up: as many as the history holds.
        self.backlog_limit = outbox_limit + broker.limits.max_events
        self.presence_interval = presence_interval
        self.renderer = Renderer()
        self.feeds: dict[str, RoomFeed[RoomMembers]] = {}
        self.members: dict[str, RoomMembers] = {}
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        # Who else was online when the broker last answered, per room.
        self._cluster_presence: dict[str, set[int]] = {}
        self._unplaced: deque[EventDraft] = deque()
        self._reap_after = 0.0
        broker.on_event(self._on_event)
        broker.on_connected(self._on_broker_connected)
        broker.on_presence_notice(lambda room: self._in_background(self._push_presence(room)))

    async def start(self) -> None:
        await self.broker.start()
        self._refresher = asyncio.create_task(self._refresh_presence_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in [*self._tasks]:
            task.cancel()
        await self.broker.stop()

    # --- joining and leaving -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def join(
        self, websocket: WebSocket, room: str, client_id: int, since: Position | None = None
    ) -> AsyncIterator[Member]:
        """Accepts the connection into the room, once the room hears every process. What the
        member's conversation sends goes through its outbox, in order with the room's events.
        A JSON member first gets what it missed since ``since`` (or the recent history)."""
        feed = self.feeds.get(room)
        if feed is None:
            feed = self.feeds[room] = RoomFeed[RoomMembers](self.broker, room)
            self.members[room] = RoomMembers(self)
            feed.subscribers.add(self.members[room])
            await self.broker.subscribe(room)
        members = self.members[room]

        async def through_outbox(frame: str) -> None:
            self.send_to(member, WireFrame(frame))

        conversation = Conversation(websocket, self.stats, send=through_outbox)
        transport = transport_of(websocket.scope)
        raw = transport if transport is not None and transport.raw_frames else None
        member = Member(
            hub=self,
            conversation=conversation,
            room=room,
            client_id=client_id,
            key=f"{self.node_id}/{next(self._serial)}/{client_id}",
            outbox=asyncio.Queue(self.outbox_limit),
            speaks_json=conversation.dialect is Dialect.JSON_V1,
            write_frame=None if raw is None else raw.write_frame,
            transport_drained=None if raw is None else raw.drained,
        )
        await member.conversation.accept()
        member.writer = asyncio.create_task(self._write(member))
        if member.speaks_json:
            member.backlog = deque()
        members.add(member)
        try:
            await self.broker.presence_add(room, member.key)
            await self._place(EventDraft.now("joined", room, client_id, self.node_id))
            if member.speaks_json:
                await self._catch_up(member, feed, since)
            await self._push_presence(room)
            yield member
        finally:
            member.writer.cancel()
            member.gone.set()
            await self._leave(member)

    async def _catch_up(
        self, member: Member, feed: "RoomFeed[RoomMembers]", since: Position | None
    ) -> None:
        """The history the member missed, a ``sync`` saying whether that is all, then live."""
        try:
            replay = await feed.catch_up(since)
        except RoomUnavailable:
            # Told now; the history follows when the broker is back (see _resync).
            sync = self._sync(member.room, since or Position("", 0), False, "unavailable", 0)
            events: list[RoomEvent] = []
            self.metrics.recovery("unavailable")
        else:
            self.metrics.recovery("recovered" if replay.recovered else str(replay.reason))
            sync = self._sync(
                member.room, replay.position, replay.recovered, replay.reason, len(replay.events)
            )
            events = replay.events
        for event in events:
            if member.too_slow:
                return
            if (frame := member.frame_for(event)) is not None:
                await member.send_paced(frame)
        await member.send_paced(WireFrame(sync))
        while member.backlog and not member.too_slow:  # what came meanwhile, then live
            if (frame := member.frame_for(member.backlog.popleft())) is not None:
                await member.send_paced(frame)
        member.backlog = None

    @staticmethod
    def _sync(
        room: str,
        position: Position,
        recovered: bool,
        reason: NotRecovered | None,
        replayed: int,
    ) -> str:
        return Sync(
            room=room,
            epoch=position.epoch,
            offset=position.offset,
            recovered=recovered,
            reason=reason,
            replayed=replayed,
        ).model_dump_json()

    async def _leave(self, member: Member) -> None:
        """Once per member, whichever comes first: its client leaving, or being dropped."""
        members = self.members.get(member.room)
        if members is None or member not in members:
            return
        members.discard(member)
        if not members:
            del self.feeds[member.room], self.members[member.room]
            await self.broker.unsubscribe(member.room)
        await self.broker.presence_remove(member.room, member.key)
        await self._place(EventDraft.now("left", member.room, member.client_id, self.node_id))
        await self._push_presence(member.room)

    # --- saying --------------------------------------------------------------------------

    def send_to(self, member: Member, frame: WireFrame) -> None:
        """A frame for one client, in order with everything else it is sent."""
        stats = self.stats
        stats.sent += 1
        stats.sent_bytes += frame.size
        if not member.deliver(frame):
            self.drop_slow(member)

    def broadcast(self, members: set[Member], frame: WireFrame) -> None:
        """One frame to many clients: the same bytes written to each connection that can take
        them now, queued for the others, never awaiting anyone."""
        data = frame.frame
        for member in [*members]:
            # Member.deliver, inlined: this runs once per recipient of every event.
            write = member.write_frame
            if not member.backed_up and write is not None and write(data):
                continue
            if not member.enqueue(frame):
                self.drop_slow(member)
        stats = self.stats
        stats.sent += len(members)
        stats.sent_bytes += len(members) * frame.size

    async def say(self, member: Member, text: str, message_id: str | None = None) -> RoomEvent:
        """Places what the member said in the room; its event, once the room holds it.

        Raises ``RoomUnavailable`` when the room cannot take it now; a guide client, which has
        no way to be told, has its message kept here and placed when the broker returns."""
        draft = EventDraft.now(
            "said", member.room, member.client_id, self.node_id, text, message_id
        )
        if self._unplaced and not member.speaks_json:
            self._keep_unplaced(draft)  # in order behind what waits already
            raise RoomUnavailable("the room is placing what waited during an outage")
        try:
            event, _duplicate = await self.broker.append(draft)
        except RoomUnavailable:
            if member.speaks_json:
                raise
            self._keep_unplaced(draft)
            raise
        return event

    async def _place(self, draft: EventDraft) -> None:
        """Places a join or a departure; kept for later while the broker is away."""
        if self._unplaced:
            self._keep_unplaced(draft)  # in order behind what waits already
            return
        try:
            await self.broker.append(draft)
        except RoomUnavailable:
            self._keep_unplaced(draft)

    def _keep_unplaced(self, draft: EventDraft) -> None:
        if len(self._unplaced) >= UNPLACED_LIMIT:
            dropped = self._unplaced.popleft()
            logger.warning("chat: broker away too long; dropped an event of %r", dropped.room)
        self._unplaced.append(draft)

    # --- the room's events ---------------------------------------------------------------

    def _on_event(self, event: RoomEvent) -> None:
        feed = self.feeds.get(event.room)
        if feed is None:
            return
        feed.on_event(event)
        self.metrics.delivered(event.at)
        if event.kind != "said":
            self._in_background(self._push_presence(event.room))

    async def _write(self, member: Member) -> None:
        """Empties the outbox of a member that could not take its frames at once: each as
        soon as the connection can take it."""
        outbox, drained = member.outbox, member.drained
        write, transport_drained = member.write_frame, member.transport_drained
        half = outbox.maxsize // 2
        try:
            while True:
                frame = await outbox.get()
                if write is not None and transport_drained is not None:
                    await transport_drained()
                    if not write(frame.frame):
                        return  # closing
                else:
                    await member.websocket.send_text(frame.text)
                if outbox.empty():
                    member.backed_up = False
                if not drained.is_set() and outbox.qsize() <= half:
                    drained.set()
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client is gone; its reader ends the membership

    async def _on_broker_connected(self) -> None:
        """Back after an outage (or a first connect): place what waited, register every member
        at once, and bring each room up to date from the history."""
        self._reap_after = asyncio.get_running_loop().time() + 2 * self.presence_interval
        if self._connected_before:
            self.metrics.broker_reconnected()
        self._connected_before = True
        while self._unplaced:
            try:
                await self.broker.append(self._unplaced[0])
            except RoomUnavailable:
                return  # gone again: the reader will call once more
            self._unplaced.popleft()
        for room, feed in [*self.feeds.items()]:
            members = self.members[room].all()
            await self.broker.presence_refresh(room, [member.key for member in members])
            await self.broker.notify_presence(room)
            await self._resync(feed, members)
        if settles_in := self.broker.presence_settles_in():
            self._in_background(self._push_presence_everywhere(after=settles_in))

    async def _push_presence_everywhere(self, after: float) -> None:
        """Once every process had its time to re-register: the lists are whole again."""
        await asyncio.sleep(after)
        for room in [*self.members]:
            await self._push_presence(room)

    async def _resync(self, feed: "RoomFeed[RoomMembers]", members: list[Member]) -> None:
        """Events the room placed while this process could not hear it, and a ``sync`` to
        each JSON member: recovered, or why not (a Redis that came back empty)."""
        since = feed.position
        try:
            replay = await feed.catch_up(since)
        except RoomUnavailable:
            return
        for event in replay.events:
            feed.on_event(event)
        for member in members:
            if member.speaks_json and member.backlog is None:
                reason = None if replay.recovered else replay.reason
                sync = self._sync(
                    member.room, replay.position, replay.recovered, reason, len(replay.events)
                )
                self.send_to(member, WireFrame(sync))

    # --- leaving for being slow ----------------------------------------------------------

    def drop_slow(self, member: Member) -> None:
        if member.too_slow:
            return
        member.too_slow = True
        member.conversation.ended = True  # read nothing more from it
        member.conversation.close_code = SLOW_CLIENT_CLOSE_CODE
        self.metrics.dropped_slow_client()
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
        # A stuck client may never take the close frame: its buffers (ours and the kernel's)
        # stay held until the connection is cut, so it is, after a short grace.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                member.websocket.close(SLOW_CLIENT_CLOSE_CODE, "too slow: messages piled up"),
                timeout=SLOW_CLIENT_GRACE,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(member.gone.wait(), timeout=SLOW_CLIENT_GRACE)
            return
        transport = transport_of(member.websocket.scope)
        if transport is not None:
            logger.info(
                "chat: client #%s took no close frame: connection aborted", member.client_id
            )
            transport.abort()

    # --- presence ------------------------------------------------------------------------

    async def _push_presence(self, room: str) -> None:
        """Tells this process's JSON members in the room who is online, when it changed. Never
        a list without a member that is connected here; marked incomplete while the broker
        cannot say who is connected elsewhere."""
        room_members = self.members.get(room)
        if room_members is None or not room_members.json:
            return  # the guide's dialect has no presence
        cluster = await self.broker.online(room)
        complete = cluster is not None and not self.broker.presence_settles_in()
        if cluster is None:
            cluster = self._cluster_presence.get(room, set())
        else:
            self._cluster_presence[room] = cluster
        here = {member.client_id for member in room_members.all()}
        online = tuple(sorted(cluster | here))
        frame = WireFrame(
            Presence(room=room, online=list(online), complete=complete).model_dump_json()
        )
        for member in [*room_members.json]:
            if member.backlog is None and member.sent_presence != (online, complete):
                member.sent_presence = (online, complete)
                self.send_to(member, frame)

    async def _refresh_presence_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.presence_interval)
            for room, members in [*self.members.items()]:
                keys = [member.key for member in members.all()]
                await self.broker.presence_refresh(room, keys)
                # Not right after a reconnect: the other processes are re-registering too.
                if loop.time() >= self._reap_after:
                    for client_id in await self.broker.reap(room):
                        # A process that died said nothing: its members leave, once for all.
                        await self._place(EventDraft.now("left", room, client_id, self.node_id))
                await self._push_presence(room)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)
