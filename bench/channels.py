"""Scenarios on the multiplexed endpoint, ``WS /ws/realtime`` (docs/protocol.md, "Channels").

- ``idle_subscribed``: memory per quiet connection following 1 channel (``announcements``) or
  5 (``announcements`` and 4 chat rooms, as a member), the chat rooms of ``ROOM_SIZE`` members.
- ``realtime_fan_out``: one member publishes to a chat room over ``/ws/realtime``, one message
  at a time; each is timed until each of the room's other members on ``/ws/realtime`` has it.
  The same room, the same way in, as the guide's chat broadcast (``scenarios.fan_out``): what
  differs is the endpoint and its messages (a generic ``event`` with the channel's positions).
- ``http_fan_out``: a service publishes to ``announcements`` with ``POST
  /api/channels/announcements/events`` on the first server; each event is timed from the
  request until each subscriber, on any of the servers, has it.
"""

import asyncio
import contextlib
import gc
import json
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.scenarios import HOST, FanOutResult, percentile
from bench.servers import Server, cpu_seconds, rss_bytes
from bench.wsclient import BenchClient, open_client

REALTIME = "/ws/realtime"
JSON_V1 = "realtime.json.v1"
ANNOUNCEMENTS = "announcements"
# Members of each chat room in the idle scenario: each connection follows 4 rooms, and the
# connections of a group of ROOM_SIZE follow the same 4.
ROOM_SIZE = 50
SYNC = b'{"type":"sync"'
ERROR = b'{"type":"error"'
EVENT = b'{"type":"event"'
PUBLISHED = b'"kind":"published"'
TEXT = b'"text":"'

Channels = list[tuple[str, str | None]]  # (channel, the member to show as, on a chat)


def subscribe_frame(request_id: str, channel: str, member: str | None) -> bytes:
    message = {"type": "subscribe", "id": request_id, "channel": channel}
    if member is not None:
        message["member"] = member
    return json.dumps(message, separators=(",", ":")).encode()


async def open_subscriber(
    port: int,
    channels: Channels,
    on_event: Callable[[bytes, float], None] | None = None,
) -> BenchClient:
    """A ``/ws/realtime`` client following ``channels``, once each has sent its ``sync`` (its
    history is in); ``on_event`` gets each published event. An ``error`` fails it."""
    synced: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    pending = len(channels)

    def on_message(payload: bytes, now: float) -> None:
        nonlocal pending
        if payload.startswith(EVENT):
            # Live events only: what the history replays comes before the sync.
            if on_event is not None and pending == 0 and PUBLISHED in payload:
                on_event(payload, now)
        elif payload.startswith(SYNC):
            pending -= 1
            if pending == 0 and not synced.done():
                synced.set_result(None)
        elif payload.startswith(ERROR) and not synced.done():
            synced.set_exception(RuntimeError(payload.decode()))

    client = await open_client(HOST, port, REALTIME, on_message, subprotocol=JSON_V1)
    for number, (channel, member) in enumerate(channels):
        client.send_text(subscribe_frame(f"s{number}", channel, member))
    await asyncio.wait_for(synced, 60)
    return client


def idle_channels(connection: int, channels: int) -> Channels:
    """What one connection of the idle scenario follows: ``announcements``, then chat rooms."""
    group = connection // ROOM_SIZE
    rooms = channels - 1
    member = str(connection + 1)
    return [(ANNOUNCEMENTS, None)] + [
        (f"chat:idle-{group * rooms + room}", member) for room in range(rooms)
    ]


@dataclass
class IdleChannelsResult:
    connections: int
    channels: int  # followed by each connection
    kib_per_connection: float
    server_rss_mib: float
    seconds_to_open: float


async def idle_subscribed(server: Server, connections: int, channels: int) -> IdleChannelsResult:
    """Memory per quiet ``/ws/realtime`` connection following ``channels`` channels: the
    server's RSS before and after opening them (and their channels' presence and history)."""
    await asyncio.sleep(0.5)
    before = rss_bytes(server.pid)
    started = time.perf_counter()
    clients: list[BenchClient] = []
    batch = 250
    for start in range(0, connections, batch):
        clients += await asyncio.gather(
            *(
                open_subscriber(server.port, idle_channels(number, channels))
                for number in range(start, min(start + batch, connections))
            )
        )
    opened = time.perf_counter() - started
    await asyncio.sleep(1.5)  # presence lists go out half a second after the last change
    after = rss_bytes(server.pid)
    for client in clients:
        client.close()
    del clients
    gc.collect()
    await asyncio.sleep(1.0)
    return IdleChannelsResult(
        connections, channels, (after - before) / connections / 1024, after / 2**20, opened
    )


class Deliveries:
    """When each message was sent, and when each receiver had it. A message is told apart by
    the number its text starts with: ``{"text":"<index> ...``."""

    def __init__(self, messages: int, receivers: int) -> None:
        self.receivers = receivers
        self.arrivals: list[list[float]] = [[] for _ in range(messages)]
        self.everyone_has = [asyncio.Event() for _ in range(messages)]
        self.sent_at: list[float] = []

    def on_event(self, payload: bytes, now: float) -> None:
        start = payload.find(TEXT) + len(TEXT)
        index = int(payload[start : payload.index(b" ", start)])
        arrivals = self.arrivals[index]
        arrivals.append(now)
        if len(arrivals) == self.receivers:
            self.everyone_has[index].set()

    async def run(
        self,
        servers: list[Server],
        send: Callable[[int], Awaitable[None]],
        *,
        wait: float,
        spacing: float,
    ) -> FanOutResult:
        """Sends each message (``send(index)``, which returns once the publisher was
        answered), one at a time: the next once everyone has it, or after ``wait``."""
        cpu_before = sum(cpu_seconds(server.pid) for server in servers)
        for index, everyone_has in enumerate(self.everyone_has):
            self.sent_at.append(time.perf_counter())
            answered = asyncio.ensure_future(send(index))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone_has.wait(), wait)
            await answered
            await asyncio.sleep(spacing)
        server_cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu_before
        deliveries = [
            at - self.sent_at[index] for index, times in enumerate(self.arrivals) for at in times
        ]
        lasts = [
            max(times) - self.sent_at[index]
            for index, times in enumerate(self.arrivals)
            if len(times) == self.receivers
        ]
        return FanOutResult(
            receivers=self.receivers,
            messages=len(self.arrivals),
            p50_ms=percentile(deliveries, 0.50) * 1000,
            p99_ms=percentile(deliveries, 0.99) * 1000,
            last_median_ms=(statistics.median(lasts) * 1000) if lasts else float("nan"),
            delivered=len(deliveries) / (self.receivers * len(self.arrivals)),
            server_cpu_us_per_delivery=server_cpu / max(len(deliveries), 1) * 1e6,
        )


async def _open_all(
    servers: list[Server],
    receivers: int,
    channels: Callable[[int], Channels],
    deliveries: Deliveries,
) -> list[BenchClient]:
    """Receivers 1 to ``receivers``, spread over ``servers`` in turn, opened 50 at a time."""
    clients: list[BenchClient] = []
    for start in range(1, receivers + 1, 50):
        clients += await asyncio.gather(
            *(
                open_subscriber(
                    servers[number % len(servers)].port, channels(number), deliveries.on_event
                )
                for number in range(start, min(start + 50, receivers + 1))
            )
        )
    return clients


def _text(index: int, size: int) -> str:
    return f"{index} " + "p" * max(0, size - 8)


async def realtime_fan_out(
    servers: list[Server],
    receivers: int,
    *,
    messages: int = 20,
    size: int = 32,
    spacing: float = 0.05,
    wait: float = 3.0,
    close_clients: bool = True,
) -> FanOutResult:
    """Member 0 publishes ``messages`` times to a chat room over ``/ws/realtime``; members 1 to
    ``receivers``, each on ``/ws/realtime`` too, hear each."""
    room = f"chat:fanout-{time.monotonic_ns()}"
    deliveries = Deliveries(messages, receivers)
    clients = await _open_all(servers, receivers, lambda n: [(room, str(n))], deliveries)
    publisher = await open_subscriber(servers[0].port, [(room, "0")])
    await asyncio.sleep(1.0)  # joins settle, and the presence lists they cause

    async def send(index: int) -> None:
        message = {
            "type": "publish",
            "id": f"m{index}",
            "channel": room,
            "data": {"text": _text(index, size)},
        }
        publisher.send_text(json.dumps(message, separators=(",", ":")).encode())

    result = await deliveries.run(servers, send, wait=wait, spacing=spacing)
    if close_clients:
        for client in [*clients, publisher]:
            client.close()
        await asyncio.sleep(0.5)
    return result


class HttpConnection:
    """One kept-alive HTTP/1.1 connection, as a service that publishes keeps one."""

    def __init__(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.port = port
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> "HttpConnection":
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(port, reader, writer)

    async def post_json(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """The response's status; its body is read and dropped."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{head}\r\n"
            ).encode()
            + body
        )
        response = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in response.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(response.split(b" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


@dataclass
class HttpFanOutResult(FanOutResult):
    # From the request until its answer (201) reached the publisher.
    answer_p50_ms: float = float("nan")
    answer_p99_ms: float = float("nan")


async def http_fan_out(
    servers: list[Server],
    receivers: int,
    token: str,
    *,
    messages: int = 20,
    size: int = 32,
    spacing: float = 0.05,
    wait: float = 3.0,
    close_clients: bool = True,
) -> HttpFanOutResult:
    """A service publishes ``messages`` announcements over HTTP, on the first server, one at a
    time; ``receivers`` subscribers on ``/ws/realtime``, spread over ``servers``, hear each."""
    deliveries = Deliveries(messages, receivers)
    clients = await _open_all(servers, receivers, lambda n: [(ANNOUNCEMENTS, None)], deliveries)
    await asyncio.sleep(1.0)
    service = await HttpConnection.open(servers[0].port)
    answers: list[float] = []

    async def send(index: int) -> None:
        started = time.perf_counter()
        body = json.dumps({"data": {"text": _text(index, size)}}).encode()
        status = await service.post_json(
            f"/api/channels/{ANNOUNCEMENTS}/events",
            body,
            {"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{started}-{index}"},
        )
        answers.append(time.perf_counter() - started)
        if status != 201:
            raise RuntimeError(f"POST answered {status}")

    try:
        result = await deliveries.run(servers, send, wait=wait, spacing=spacing)
    finally:
        service.close()
    if close_clients:
        for client in clients:
            client.close()
        await asyncio.sleep(0.5)
    return HttpFanOutResult(
        **vars(result),
        answer_p50_ms=percentile(answers, 0.50) * 1000,
        answer_p99_ms=percentile(answers, 0.99) * 1000,
    )


# For the servers of http_fan_out (APP_TOKEN_SECRET), and the publisher's token made from it:
# made afresh for each benchmark process.
TOKEN_SECRET = secrets.token_urlsafe(32)


def publisher_token(secret: str = TOKEN_SECRET) -> str:
    """A token with the publisher role, as ``python -m app token bench --role publisher``."""
    from app.security.tokens import issue_token

    return issue_token(secret, "bench", 3600, roles=("publisher",)).token
