"""The chat rooms of one process, joined to every other process through the broker.

Every event of a room (said, joined, left) is placed by the broker at an offset in the room's
history before anyone hears it, and every process feeds its own members from the broker in
offset order (``app.rooms.feed``). A ``realtime.json.v1`` member that joins gets the recent
history, or what it missed since the position it gave, before the live events; the guide's
plain-text members get exactly the guide's lines and nothing else.

One client number may be connected several times (two tabs, or a reconnect before the old
connection was noticed gone): it is one member of the room, announced as joined with its first
connection and as left with its last, in the whole cluster (the broker counts them).
"""

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from fastapi import WebSocket

from app.chat.held import HeldEvents
from app.chat.members import Member, RoomMembers
from app.chat.presence import PresenceBoard
from app.chat.render import Renderer
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation
from app.conversation.messages import Sync
from app.conversation.outlet import DEFAULT_LIMITS, OutletLimits
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
# Departures noted while the broker was away, to tell it once it returns.
DEPARTED_LIMIT = 10_000


def dedup_key(sender_key: str, message_id: str) -> str:
    """What recognises a message sent again: the sender's own key (a secret between it and the
    server, never broadcast) and its id, hashed so that the broker never holds the key."""
    return f"{hashlib.sha256(sender_key.encode()).hexdigest()[:24]}:{message_id}"


class ChatHub:
    def __init__(
        self,
        broker: Broker,
        *,
        outlet_limits: OutletLimits = DEFAULT_LIMITS,
        held_bytes: int = 4 * 1024 * 1024,
        presence_interval: float = 10 / 3,
        metrics: Metrics | None = None,
    ) -> None:
        self.broker = broker
        self.metrics = metrics or Metrics(enabled=False)
        self.stats = self.metrics.stats[CHAT_ENDPOINT]
        self._connected_before = False
        self.node_id = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"
        self.outlet_limits = outlet_limits
        self.presence_interval = presence_interval
        self.renderer = Renderer()
        self.feeds: dict[str, RoomFeed[RoomMembers]] = {}
        self.members: dict[str, RoomMembers] = {}
        self.presence = PresenceBoard(self, self._in_background)
        self.held = HeldEvents(held_bytes)
        self._departed: deque[tuple[str, str, int]] = deque(maxlen=DEPARTED_LIMIT)
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        self._reap_after = 0.0
        broker.on_event(self._on_event)
        broker.on_connected(self._on_broker_connected)
        broker.on_presence_notice(self.presence.changed)

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
        """Accepts the connection into the room, once the room hears every process. A JSON
        member first gets what it missed since ``since`` (or the recent history). Raises
        ``RoomsFull`` before accepting when the room would be one too many."""
        self.broker.admit(room)
        feed = self.feeds.get(room)
        if feed is None:
            feed = self.feeds[room] = RoomFeed[RoomMembers](self.broker, room)
            self.members[room] = RoomMembers(self)
            feed.subscribers.add(self.members[room])
            await self.broker.subscribe(room)
        members = self.members[room]
        conversation = Conversation(websocket, self.stats, self.outlet_limits)
        member = Member(
            hub=self,
            conversation=conversation,
            room=room,
            client_id=client_id,
            key=f"{self.node_id}/{next(self._serial)}/{client_id}",
            speaks_json=conversation.dialect is Dialect.JSON_V1,
        )
        await member.conversation.accept()
        if member.speaks_json:
            member.backlog = deque()
        members.add(member)
        try:
            first = await self.broker.presence_add(room, member.key)
            if first is not False:  # True; or None: the broker cannot tell now
                await self._place(EventDraft.now("joined", room, client_id, self.node_id))
            if member.speaks_json:
                await self._catch_up(member, feed, since)
            self.presence.changed(room)
            yield member
        finally:
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
            event = member.backlog.popleft()
            member.backlog_bytes -= len(event.text)
            if (frame := member.frame_for(event)) is not None:
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
        member.conversation.outlet.close()
        if not members:
            del self.feeds[member.room], self.members[member.room]
            self.presence.forget(member.room)
            await self.broker.unsubscribe(member.room)
        last = await self.broker.presence_remove(member.room, member.key)
        if last:
            await self._place(EventDraft.now("left", member.room, member.client_id, self.node_id))
        elif last is None:  # told to the broker once it is back
            self._departed.append((member.room, member.key, member.client_id))
        self.presence.changed(member.room)

    # --- saying --------------------------------------------------------------------------

    def can_keep(self, member: Member, text: str) -> bool:
        """Whether a guide client's message can be taken now: placed, or kept while the
        broker is away. When not, the client is closed rather than told it was heard."""
        if member.speaks_json or (not self.held and self.broker.health().connected):
            return True
        return self.held.has_room_for(text)

    async def say(self, member: Member, text: str, message_id: str | None = None) -> RoomEvent:
        """Places what the member said in the room; its event, once the room holds it.

        Raises ``RoomUnavailable`` when the room cannot take it now; a guide client, which has
        no way to be told, has its message kept here and placed when the broker returns."""
        draft = EventDraft.now(
            "said", member.room, member.client_id, self.node_id, text, message_id
        )
        if not member.speaks_json and self.held:
            self.held.keep(draft)  # in order behind what waits already
            raise RoomUnavailable("the room is placing what waited during an outage")
        dedup = None
        if member.speaks_json and message_id is not None:
            dedup = dedup_key(member.conversation.sender_key, message_id)
        try:
            event, _duplicate = await self.broker.append(draft, dedup)
        except RoomUnavailable:
            if not member.speaks_json:
                self.held.keep(draft)
            raise
        return event

    async def _place(self, draft: EventDraft) -> None:
        """Places a join or a departure; kept for later while the broker is away."""
        if self.held:
            self.held.keep(draft)  # in order behind what waits already
            return
        try:
            await self.broker.append(draft)
        except RoomUnavailable:
            self.held.keep(draft)

    # --- the room's events ---------------------------------------------------------------

    def _on_event(self, event: RoomEvent) -> None:
        feed = self.feeds.get(event.room)
        if feed is None:
            return
        feed.on_event(event)
        self.metrics.delivered(event.at)
        if event.kind != "said":
            self.presence.changed(event.room)

    async def _on_broker_connected(self) -> None:
        """Back after an outage (or a first connect): place what waited, tell the departures,
        register every member at once, and bring each room up to date from the history."""
        self._reap_after = asyncio.get_running_loop().time() + 2 * self.presence_interval
        if self._connected_before:
            self.metrics.broker_reconnected()
        self._connected_before = True
        while self.held:
            try:
                await self.broker.append(self.held.oldest())
            except RoomUnavailable:
                return  # gone again: the reader will call once more
            self.held.placed_oldest()
        while self._departed:
            room, key, client_id = self._departed[0]
            last = await self.broker.presence_remove(room, key)
            if last is None:
                return  # gone again
            self._departed.popleft()
            if not last:
                # Not found (a Redis that came back empty lost it), or not the last: gone,
                # unless the same number is connected somewhere.
                online = await self.broker.online(room)
                last = online is not None and client_id not in online
            if last:
                await self._place(EventDraft.now("left", room, client_id, self.node_id))
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
            await self.presence.push(room)

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
                member.deliver(WireFrame(sync))

    # --- leaving for being slow ----------------------------------------------------------

    def drop_slow(self, member: Member) -> None:
        if member.too_slow:
            return
        member.too_slow = True
        member.conversation.ended = True  # read nothing more from it
        member.conversation.close_code = SLOW_CLIENT_CLOSE_CODE
        self.metrics.dropped_slow_client()
        outlet = member.conversation.outlet
        logger.warning(
            "chat: client #%s in %r did not keep up (%d messages, %d bytes waiting): "
            "closing with %d",
            member.client_id,
            member.room,
            len(outlet.queue or ()),
            outlet.queued_bytes,
            SLOW_CLIENT_CLOSE_CODE,
        )
        outlet.close()
        self._in_background(self._close_slow(member))

    async def _close_slow(self, member: Member) -> None:
        # A stuck client may never take the close frame: its buffers (ours and the kernel's)
        # stay held until the connection is cut, so it is, SLOW_CLIENT_GRACE after the 1013
        # was decided (one deadline for leaving, the close frame and the client's going).
        deadline = asyncio.get_running_loop().time() + SLOW_CLIENT_GRACE
        await self._leave(member)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                with contextlib.suppress(Exception):
                    await member.websocket.close(
                        SLOW_CLIENT_CLOSE_CODE, "too slow: messages piled up"
                    )
                await member.gone.wait()
            return
        transport = transport_of(member.websocket.scope)
        if transport is not None:
            logger.info(
                "chat: client #%s took no close frame: connection aborted", member.client_id
            )
            transport.abort()

    # --- presence ------------------------------------------------------------------------

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
                await self.presence.push(room)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)
