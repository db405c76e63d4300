"""The one place that writes a connection's frames (``Outlet``): straight to the socket while
it takes them, queued behind what waits once it does not, bounded per connection (frames,
bytes) and for the whole process (``OutboxBudget``), each frame counted sent once."""

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from fastapi import WebSocket

from app.conversation.outlet import OutboxBudget, Outlet, OutletLimits
from app.observability.metrics import Metrics
from app.server.wire import TRANSPORT_EXTENSION, WireFrame


class Transport:
    """A connection whose socket takes frames until ``full``; ``drain()`` empties it."""

    raw_frames = True

    def __init__(self) -> None:
        self.full = False
        self.written: list[bytes] = []
        self._room = asyncio.Event()
        self._room.set()

    def write_frame(self, frame: bytes) -> bool:
        if self.full:
            self._room.clear()
            return False
        self.written.append(frame)
        return True

    async def drained(self) -> None:
        await self._room.wait()

    def abort(self) -> None:
        pass

    def drain(self) -> None:
        self.full = False
        self._room.set()


def outlet_on(transport: Transport, limits: OutletLimits) -> Outlet:
    scope: dict[str, Any] = {"extensions": {TRANSPORT_EXTENSION: transport}}
    websocket = cast(WebSocket, SimpleNamespace(scope=scope))
    return Outlet(websocket, Metrics(enabled=False).stats_for("/ws"), limits)


def frames(count: int, size: int = 100) -> list[WireFrame]:
    return [WireFrame(f"{n:04d}" + "x" * (size - 4)) for n in range(count)]


async def test_frames_go_straight_out_while_the_socket_takes_them() -> None:
    transport = Transport()
    outlet = outlet_on(transport, OutletLimits(4, 1000))
    for frame in frames(10):
        assert outlet.offer(frame)
    assert len(transport.written) == 10
    assert outlet.queue is None  # an idle connection keeps no queue
    assert (outlet.stats.sent, outlet.stats.sent_bytes) == (10, 1000)


async def test_a_backed_up_socket_queues_within_its_bounds_and_drains_in_order() -> None:
    transport = Transport()
    transport.full = True
    outlet = outlet_on(transport, OutletLimits(4, 1000))
    offered = [outlet.offer(frame) for frame in frames(6)]
    assert offered == [True, True, True, True, False, False]  # four frames at most
    assert outlet.queued_bytes == 400
    transport.drain()
    for _ in range(10):
        await asyncio.sleep(0)
    assert [frame[2:6] for frame in transport.written] == [b"0000", b"0001", b"0002", b"0003"]
    assert outlet.queued_bytes == 0
    assert outlet.stats.sent == 4  # counted once each, when queued
    byte_bound = outlet_on(Transport(), OutletLimits(100, 250))
    assert isinstance(byte_bound._raw, Transport)
    byte_bound._raw.full = True
    assert [byte_bound.offer(frame) for frame in frames(3)] == [True, True, False]


async def test_one_frame_always_fits_an_empty_queue_however_big() -> None:
    transport = Transport()
    transport.full = True
    outlet = outlet_on(transport, OutletLimits(4, 1000))
    assert outlet.offer(WireFrame("y" * 5000))
    assert not outlet.offer(WireFrame("z"))


async def test_the_process_budget_is_shared_and_given_back() -> None:
    budget = OutboxBudget(500)
    one, two = Transport(), Transport()
    one.full = two.full = True
    first = outlet_on(one, OutletLimits(100, 10_000, budget))
    second = outlet_on(two, OutletLimits(100, 10_000, budget))
    assert all(first.offer(frame) for frame in frames(4))
    assert budget.used == 400
    # The second's own queue has room; the process's has not.
    assert second.offer(frames(1)[0])
    assert not second.offer(frames(1)[0])
    one.drain()  # what the first had queued is written, and its bytes given back
    for _ in range(10):
        await asyncio.sleep(0)
    assert budget.used == 100
    assert second.offer(frames(1)[0])
    second.close()  # a connection that ends gives back what waited for it
    assert budget.used == 0
