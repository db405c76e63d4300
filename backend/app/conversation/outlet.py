"""Where one connection's frames go: the one place that writes them.

A frame is written at once when the connection can take it and nothing waits before it: as
prebuilt bytes through our protocol classes' ``app.transport`` extension (a broadcast encodes
once for every connection), or through ASGI on a server without them. Otherwise it waits in the
connection's queue, bounded in frames and in bytes (and, for the whole process, by a shared
budget), emptied in order by a writer task that exists only while something waits. Each frame
is counted once, from its size, as it is handed over.

Two ways in: ``offer`` never waits (a room's fan-out must not wait for anyone) and says whether
the frame found room; ``send`` waits for room (a reply, a catch-up from the history), which
paces the sender by the slowest part of the way: the client, then TCP.
"""

import asyncio
from collections import deque

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.observability.metrics import EndpointStats
from app.server.wire import WireFrame, transport_of


class OutboxBudget:
    """Bytes queued for all connections of the process together."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


UNBOUNDED = OutboxBudget(2**63)
BUDGET_RETRY_SECONDS = 0.01


class OutletLimits:
    """What may wait for one connection (frames, bytes), and for all of them (``budget``)."""

    __slots__ = ("budget", "max_bytes", "max_frames")

    def __init__(self, max_frames: int, max_bytes: int, budget: OutboxBudget = UNBOUNDED) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.budget = budget


DEFAULT_LIMITS = OutletLimits(256, 1024 * 1024)


class Outlet:
    __slots__ = (
        "_raw",
        "_roomy",
        "_writer",
        "budget",
        "max_bytes",
        "max_frames",
        "queue",
        "queued_bytes",
        "stats",
        "websocket",
    )

    def __init__(
        self, websocket: WebSocket, stats: EndpointStats, limits: OutletLimits = DEFAULT_LIMITS
    ) -> None:
        self.websocket = websocket
        self.stats = stats
        self.max_frames = limits.max_frames
        self.max_bytes = limits.max_bytes
        self.budget = limits.budget
        transport = transport_of(websocket.scope)
        # Where prebuilt frames are written; None on a server without our protocol classes.
        # (The protocol itself, not its bound methods: one object less for each connection to
        # keep, and for each write of a fan-out to read.)
        self._raw = transport if transport is not None and transport.raw_frames else None
        # Made with the first frame that has to wait: an idle connection keeps none.
        self.queue: deque[WireFrame] | None = None
        self.queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._roomy: asyncio.Event | None = None

    @property
    def backed_up(self) -> bool:
        return bool(self.queue)

    def offer(self, frame: WireFrame) -> bool:
        """Written now, or queued behind what waits; False when the queue has no room for it
        (then nothing is sent: the caller decides, the chat closes a client this slow)."""
        raw = self._raw
        if raw is not None and not self.queue and raw.write_frame(frame.frame):
            stats = self.stats  # _count, inlined: this runs once per subscriber of a fan-out
            stats.sent += 1
            stats.sent_bytes += frame.size
            return True
        return self._enqueue(frame)

    async def send(self, frame: WireFrame, give_up_after: float | None = None) -> None:
        """Written or queued, waiting for room as long as it takes (``give_up_after``: at most
        that many seconds, then ``TimeoutError``)."""
        loop = asyncio.get_running_loop()
        deadline = None if give_up_after is None else loop.time() + give_up_after
        while not self.offer(frame):
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise TimeoutError
            if not self.queue:  # the process's budget is spent: others' queues must drain
                await asyncio.sleep(BUDGET_RETRY_SECONDS)
                continue
            roomy = self._roomy = self._roomy or asyncio.Event()
            roomy.clear()
            await asyncio.wait_for(roomy.wait(), left)

    def has_room(self) -> bool:
        """Whether the queue is at most half full (so that a client that sends faster than
        it reads is slowed down before it could be dropped for its own replies)."""
        queue = self.queue
        return not queue or (
            len(queue) <= self.max_frames // 2 and self.queued_bytes <= self.max_bytes // 2
        )

    async def wait_for_room(self, give_up_after: float) -> None:
        while not self.has_room():
            roomy = self._roomy = self._roomy or asyncio.Event()
            roomy.clear()
            await asyncio.wait_for(roomy.wait(), give_up_after)

    def close(self) -> None:
        """The connection is done: what waits is dropped, and its bytes given back."""
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        if self.queue:
            self.budget.give_back(self.queued_bytes)
            self.queue.clear()
            self.queued_bytes = 0

    def _enqueue(self, frame: WireFrame) -> bool:
        queue = self.queue
        if queue is None:
            queue = self.queue = deque()
        size = frame.size
        # One frame always fits an empty queue, however big: the message limits bound it.
        if queue and (len(queue) >= self.max_frames or self.queued_bytes + size > self.max_bytes):
            return False
        if not self.budget.take(size):
            return False
        queue.append(frame)
        self.queued_bytes += size
        self._count(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())
        return True

    def _count(self, frame: WireFrame) -> None:
        stats = self.stats
        stats.sent += 1
        stats.sent_bytes += frame.size

    async def _write_queued(self) -> None:
        """Empties the queue, each frame as soon as the connection can take it."""
        queue = self.queue
        assert queue is not None
        raw = self._raw
        try:
            while queue:
                frame = queue[0]
                if raw is not None:
                    await raw.drained()
                    if not raw.write_frame(frame.frame):
                        return  # closing
                elif frame.data is not None:
                    await self.websocket.send_bytes(frame.data)
                else:
                    await self.websocket.send_text(frame.text)
                queue.popleft()
                self.queued_bytes -= frame.size
                self.budget.give_back(frame.size)
                if self._roomy is not None and self.has_room():
                    self._roomy.set()
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client is gone; its reader ends the conversation
        finally:
            self._writer = None
