"""The measured scenarios. Each returns plain numbers; ``bench.report`` turns them into tables."""

import asyncio
import contextlib
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.servers import Server, cpu_seconds, rss_bytes
from bench.wsclient import OP_TEXT, BenchClient, client_frame, open_client

HOST = "127.0.0.1"
MESSAGE = b"x" * 32  # the 32-byte messages
JSON_V1 = [Subprotocol("realtime.json.v1")]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class EchoResult:
    messages_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_message: float
    server_cpu_percent: float
    client_cpu_percent: float
    deflate_negotiated: bool


async def echo(
    server: Server, connections: int, *, offer_deflate: bool, seconds: float
) -> EchoResult:
    """Closed loop: each connection sends 32 bytes and sends again as soon as the echo arrives."""
    running = True
    measuring = False
    count = 0
    latencies: list[float] = []
    frame = client_frame(OP_TEXT, MESSAGE)
    clients: list[BenchClient] = []
    sent_at: dict[int, float] = {}

    def on_message_for(index: int) -> Callable[[bytes, float], None]:
        def on_message(payload: bytes, now: float) -> None:
            nonlocal count
            if measuring:
                count += 1
                latencies.append(now - sent_at[index])
            if running:
                sent_at[index] = time.perf_counter()
                client = clients[index]
                if client.deflate is None:
                    client.send_prebuilt(frame)
                else:
                    client.send_text(MESSAGE)

        return on_message

    for index in range(connections):
        clients.append(
            await open_client(
                HOST, server.port, "/ws", on_message_for(index), offer_deflate=offer_deflate
            )
        )
    for index, client in enumerate(clients):
        sent_at[index] = time.perf_counter()
        client.send_text(MESSAGE)
    await asyncio.sleep(0.5)  # warm up
    measuring = True
    cpu_before, own_before, started = (
        cpu_seconds(server.pid),
        time.process_time(),
        time.perf_counter(),
    )
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(server.pid) - cpu_before
    own_cpu = time.process_time() - own_before
    running = False
    await asyncio.sleep(0.1)
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)
    return EchoResult(
        messages_per_second=count / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        server_cpu_us_per_message=server_cpu / max(count, 1) * 1e6,
        server_cpu_percent=server_cpu / elapsed * 100,
        client_cpu_percent=own_cpu / elapsed * 100,
        deflate_negotiated=clients[0].deflate is not None,
    )


@dataclass
class IdleResult:
    connections: int
    kib_per_connection: float
    server_rss_mib: float


async def idle(server: Server, connections: int) -> IdleResult:
    """Memory per open, quiet WebSocket: the server's RSS before and after opening them."""
    await asyncio.sleep(0.5)
    before = rss_bytes(server.pid)
    clients: list[BenchClient] = []
    batch = 250
    for start in range(0, connections, batch):
        opened = await asyncio.gather(
            *(
                open_client(HOST, server.port, "/ws")
                for _ in range(start, min(start + batch, connections))
            )
        )
        clients.extend(opened)
    await asyncio.sleep(1.0)
    after = rss_bytes(server.pid)
    for client in clients:
        client.close()
    del clients
    gc.collect()
    await asyncio.sleep(1.0)
    return IdleResult(connections, (after - before) / connections / 1024, after / 2**20)


@dataclass
class FanOutResult:
    receivers: int
    messages: int
    p50_ms: float
    p99_ms: float
    last_median_ms: float
    delivered: float  # fraction of (message, receiver) pairs that arrived in time
    # The servers' CPU time (user and system, all of them) while the messages went out, per
    # delivery: unlike the latencies, hardly moved by other work on a shared machine.
    server_cpu_us_per_delivery: float = float("nan")


async def fan_out(
    servers: list[Server],
    receivers: int,
    *,
    messages: int = 20,
    size: int = 32,
    stuck: bool = False,
    spacing: float = 0.05,
    wait: float = 3.0,
    close_clients: bool = True,
) -> FanOutResult:
    """One sender says ``messages`` things in the guide's chat; ``receivers`` clients hear each.

    Receivers are spread over ``servers`` in turn; the sender is on the first. With ``stuck``,
    one more client joins that never reads a byte.
    """
    prefix = b"Client #0 says: "
    arrivals: list[list[float]] = [[] for _ in range(messages)]
    everyone_has: list[asyncio.Event] = [asyncio.Event() for _ in range(messages)]

    def on_receiver_message(payload: bytes, now: float) -> None:
        if payload.startswith(prefix):
            index = int(payload[len(prefix) :].split(b" ", 1)[0])
            arrivals[index].append(now)
            if len(arrivals[index]) == receivers:
                everyone_has[index].set()

    clients = []
    for number in range(1, receivers + 1):
        server = servers[number % len(servers)]
        clients.append(await open_client(HOST, server.port, f"/ws/{number}", on_receiver_message))
    stuck_client = None
    if stuck:
        stuck_client = await open_client(HOST, servers[0].port, f"/ws/{receivers + 1}")
        assert stuck_client.transport is not None
        stuck_client.transport.pause_reading()  # never reads: its buffers fill, then the server's
    sender = await open_client(HOST, servers[0].port, "/ws/0")
    await asyncio.sleep(1.0)  # joins settle, across processes too

    padding = b" " + b"p" * max(0, size - 8)
    sent_at: list[float] = []
    cpu_before = sum(cpu_seconds(server.pid) for server in servers)
    for index in range(messages):
        sent_at.append(time.perf_counter())
        sender.send_text(b"%d" % index + padding)
        if not stuck:  # one message at a time: each is timed on its own
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone_has[index].wait(), wait)
        await asyncio.sleep(spacing)  # with a stuck client: keep sending whatever happens
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in everyone_has)), wait)
    server_cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu_before

    deliveries = [at - sent_at[index] for index, times in enumerate(arrivals) for at in times]
    lasts = [
        max(times) - sent_at[index]
        for index, times in enumerate(arrivals)
        if len(times) == receivers
    ]

    if close_clients:  # else the caller stops the servers first (see Server.kill)
        for client in [*clients, sender, *([stuck_client] if stuck_client else [])]:
            client.close()
        await asyncio.sleep(0.5)
    return FanOutResult(
        receivers=receivers,
        messages=messages,
        p50_ms=percentile(deliveries, 0.50) * 1000,
        p99_ms=percentile(deliveries, 0.99) * 1000,
        last_median_ms=(statistics.median(lasts) * 1000) if lasts else float("nan"),
        delivered=len(deliveries) / (receivers * messages),
        server_cpu_us_per_delivery=server_cpu / max(len(deliveries), 1) * 1e6,
    )


@dataclass
class RecoveryResult:
    missed: int
    median_ms: float
    worst_ms: float
    recovered: bool


async def recovery(server: Server, missed: int = 1000, rounds: int = 5) -> RecoveryResult:
    """A realtime.json.v1 member leaves, ``missed`` messages are said, it comes back with its
    position: the time from its reconnect until it has them all (the ``sync`` that ends them)."""
    url = f"ws://{HOST}:{server.port}"
    timings: list[float] = []
    recovered = True
    for round_number in range(rounds):
        room = f"recovery-{round_number}-{time.monotonic_ns()}"
        async with connect(f"{url}/ws/1?room={room}", subprotocols=JSON_V1) as member:
            sync = await _until_sync(member)
        async with connect(f"{url}/ws/2?room={room}") as talker:

            async def say_all(talker: ClientConnection = talker) -> None:
                for number in range(missed):
                    await talker.send(f"said {number}")

            async def hear_all(talker: ClientConnection = talker) -> None:
                for _ in range(2 * missed):  # "You wrote" and the room's copy of each
                    await talker.recv()

            await asyncio.gather(say_all(), hear_all())
        started = time.perf_counter()
        since = f"{sync['epoch']}:{sync['offset']}"
        async with connect(f"{url}/ws/1?room={room}&since={since}", subprotocols=JSON_V1) as back:
            sync = await _until_sync(back)
            timings.append(time.perf_counter() - started)
        said: int = sync["replayed"]
        recovered = recovered and bool(sync["recovered"]) and said >= missed
    return RecoveryResult(
        missed=missed,
        median_ms=statistics.median(timings) * 1000,
        worst_ms=max(timings) * 1000,
        recovered=recovered,
    )


async def _until_sync(websocket: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await websocket.recv())
        if message["type"] == "sync":
            return message


@dataclass
class SendFloorResult:
    connections: int
    median_ms: float
    us_per_send: float


class _Discard(asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        pass


class _Timings(asyncio.Protocol):
    def __init__(self) -> None:
        self.lines: asyncio.Queue[float] = asyncio.Queue()
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            # The round's own frame comes first on this socket too, then the timing.
            timing = line.rsplit(b"x", 1)[-1]
            if timing.isdigit():
                self.lines.put_nowait(float(timing))


async def send_floor(server: Server, connections: int, rounds: int = 30) -> SendFloorResult:
    """What one send() per connection costs the server's core: the broadcast floor."""
    loop = asyncio.get_running_loop()
    timings = _Timings()
    transports = [(await loop.create_connection(lambda: timings, HOST, server.port))[0]]
    for _ in range(connections - 1):
        transports.append((await loop.create_connection(_Discard, HOST, server.port))[0])
    measured = []
    try:
        for _ in range(rounds):
            transports[0].write(b"go\n")
            measured.append(await asyncio.wait_for(timings.lines.get(), 30) / 1000)
            await asyncio.sleep(0.05)
    finally:
        for transport in transports:
            transport.close()
        await asyncio.sleep(0.1)
    median_ms = statistics.median(measured)
    return SendFloorResult(connections, median_ms, median_ms * 1000 / connections)
