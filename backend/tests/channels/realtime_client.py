"""A client of the multiplexed endpoint (``WS /ws/realtime``, ``realtime.json.v1``) for tests, as
the SPA's client layer behaves: it keeps its position in each channel it follows, follows them
again after a reconnect with ``since``, and sends each publish until the channel acknowledges
it, with the same id and the connection's ``sender_key`` every time.

Modelled on ``tests/features/chat/chat_client.py``; it records what it got per channel (events,
syncs, presence lists), the repeats and gaps it saw, and how each of its connections ended.
"""

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from testkit.waiting import wait_until_async

JSON_V1 = [Subprotocol("realtime.json.v1")]
ENDPOINT = "/ws/realtime"

Message = dict[str, Any]
# Query parameters for one connection attempt (a fresh ticket, say), asked before each one.
Credentials = Callable[[], Awaitable[dict[str, str]]]


@dataclass
class Followed:
    """A channel the client follows: asked again on each connection, from its position."""

    member: str | None = None


@dataclass
class RealtimeClient:
    # Where to connect, in order of preference: a client of a process that stopped moves on.
    servers: list[str]
    headers: dict[str, str] | None = None
    credentials: Credentials | None = None
    receive_buffer: int | None = None
    # The position of the last event it has, per channel.
    positions: dict[str, tuple[str, int]] = field(default_factory=dict)
    followed: dict[str, Followed] = field(default_factory=dict)
    events: dict[str, list[Message]] = field(default_factory=dict)
    syncs: dict[str, list[Message]] = field(default_factory=dict)
    presences: dict[str, list[Message]] = field(default_factory=dict)
    errors: list[Message] = field(default_factory=list)
    duplicates: int = 0
    gaps: int = 0
    connection_ids: list[str] = field(default_factory=list)
    # How each connection ended: (close code, reason) as the client saw it.
    closes: list[tuple[int | None, str | None]] = field(default_factory=list)
    # The key its publishes are recognised by (from its first welcome), given back on reconnects.
    sender_key: str | None = None
    stopped: bool = False
    # Set while it reads: cleared, it stops taking frames, as a client that hangs would.
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    # Cleared while it stays away (``go_away``): it does not reconnect until ``come_back``.
    present: asyncio.Event = field(default_factory=asyncio.Event)
    _connection: ClientConnection | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _replies: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    _runner: asyncio.Task[None] | None = None
    _ids: "itertools.count[int]" = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.reading.set()
        self.present.set()

    # --- what it got ---------------------------------------------------------------------

    def published(self, channel: str) -> list[Message]:
        return [e for e in self.events.get(channel, []) if e["kind"] == "published"]

    def texts(self, channel: str) -> list[str]:
        return [str(e["data"].get("text")) for e in self.published(channel)]

    def last_sync(self, channel: str) -> Message | None:
        syncs = self.syncs.get(channel)
        return syncs[-1] if syncs else None

    def since(self, channel: str) -> str | None:
        position = self.positions.get(channel)
        return None if position is None else f"{position[0]}:{position[1]}"

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        self.stopped = True
        self.present.set()
        if self._connection is not None:
            await self._connection.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    async def go_away(self) -> None:
        """Closes its connection and stays away, keeping its positions."""
        self.present.clear()
        if self._connection is not None:
            await self._connection.close()
        await wait_until_async(lambda: not self._ready.is_set(), 5, "gone")

    async def come_back(self) -> None:
        """Connects again and follows its channels from where it was."""
        self.present.set()
        await asyncio.wait_for(self._ready.wait(), 10)

    async def _run(self) -> None:
        attempt = 0
        while not self.stopped:
            await self.present.wait()
            if self.stopped:
                return
            server = self.servers[attempt % len(self.servers)]
            with contextlib.suppress(OSError, ConnectionClosed, InvalidHandshake):
                await self._session(server)
            self._ready.clear()
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection lost"))
            attempt += 1
            await asyncio.sleep(0.1)

    async def _url(self, server: str) -> str:
        query = {} if self.credentials is None else await self.credentials()
        if self.sender_key is not None:
            query["sender_key"] = self.sender_key
        return f"{server}{ENDPOINT}" + (f"?{urlencode(query)}" if query else "")

    async def _session(self, server: str) -> None:
        sock = None
        if self.receive_buffer is not None:
            host, port = server.removeprefix("ws://").split(":")
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            sock.connect((host, int(port)))
        url = await self._url(server)
        async with connect(
            url, subprotocols=JSON_V1, additional_headers=self.headers, sock=sock, max_queue=4
        ) as websocket:
            self._connection = websocket
            try:
                welcome = json.loads(await asyncio.wait_for(websocket.recv(), 5))
                self._take(welcome)
                reading = asyncio.create_task(self._read(websocket))
                try:
                    for channel, followed in [*self.followed.items()]:
                        # Followed again from where it was: what it missed, then live.
                        await self._send_subscribe(websocket, channel, followed.member)
                    self._ready.set()
                    await reading
                finally:
                    reading.cancel()
            finally:
                self.closes.append((websocket.close_code, websocket.close_reason))

    async def _read(self, websocket: ClientConnection) -> None:
        async for frame in websocket:
            await self.reading.wait()
            self._take(json.loads(frame))

    def _take(self, message: Message) -> None:
        kind = message["type"]
        if kind == "event":
            channel = message["channel"]
            here = (message["epoch"], message["offset"])
            position = self.positions.get(channel)
            if position is not None and position[0] == here[0]:
                if here[1] <= position[1]:
                    self.duplicates += 1
                    return
                if here[1] != position[1] + 1:
                    self.gaps += 1
            self.positions[channel] = here
            self.events.setdefault(channel, []).append(message)
        elif kind == "sync":
            channel = message["channel"]
            self.syncs.setdefault(channel, []).append(message)
            if not message["recovered"] and message["epoch"]:
                # Lost, or too far back: counted from where the channel is now.
                self.positions[channel] = (message["epoch"], message["offset"])
        elif kind == "presence":
            self.presences.setdefault(message["channel"], []).append(message)
        elif kind == "welcome":
            self.connection_ids.append(message["connection_id"])
            self.sender_key = self.sender_key or message["sender_key"]
        else:
            if kind == "error":
                self.errors.append(message)
            reply_to = message.get("reply_to") or message.get("id") or ""
            future = self._replies.get(reply_to)
            if future is not None and not future.done():
                future.set_result(message)

    # --- asking --------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    async def _send_subscribe(
        self, websocket: ClientConnection, channel: str, member: str | None
    ) -> None:
        message: Message = {"type": "subscribe", "id": self.next_id("re"), "channel": channel}
        if (since := self.since(channel)) is not None:
            message["since"] = since
        if member is not None:
            message["member"] = member
        await websocket.send(json.dumps(message))

    async def request(self, message: Message, within: float = 5) -> Message:
        """Sends one message on the current connection; the answer that names its id."""
        await asyncio.wait_for(self._ready.wait(), 10)
        assert self._connection is not None
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._replies[message["id"]] = future
        try:
            await self._connection.send(json.dumps(message))
            return await asyncio.wait_for(future, within)
        finally:
            self._replies.pop(message["id"], None)

    async def send_raw(self, text: str) -> None:
        await asyncio.wait_for(self._ready.wait(), 10)
        assert self._connection is not None
        await self._connection.send(text)

    async def subscribe(
        self, channel: str, member: str | None = None, since: str | None = None
    ) -> Message:
        """Follows the channel (from ``since``, or from its own position); the answer, a
        ``subscribed`` or an ``error``. Once subscribed, it follows it again on reconnects."""
        message: Message = {"type": "subscribe", "id": self.next_id("s"), "channel": channel}
        since = since or self.since(channel)
        if since is not None:
            message["since"] = since
        if member is not None:
            message["member"] = member
        answer = await self.request(message)
        if answer["type"] == "subscribed":
            self.followed[channel] = Followed(member)
        return answer

    async def unsubscribe(self, channel: str) -> Message:
        answer = await self.request(
            {"type": "unsubscribe", "id": self.next_id("u"), "channel": channel}
        )
        self.followed.pop(channel, None)
        return answer

    async def ping(self) -> Message:
        return await self.request({"type": "ping", "id": self.next_id("p"), "sent_at": 1})

    async def publish(
        self,
        channel: str,
        data: Message,
        message_id: str | None = None,
        give_up_after: float = 30,
    ) -> Message:
        """Sends until the channel holds it, with the same id each time: the ``ack``, or the
        first ``error`` that sending again would not change."""
        message_id = message_id or self.next_id("m")
        message = {"type": "publish", "id": message_id, "channel": channel, "data": data}
        deadline = asyncio.get_running_loop().time() + give_up_after
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await self.request(message, within=3)
            except (TimeoutError, ConnectionError, ConnectionClosed, OSError):
                await asyncio.sleep(0.1)
                continue
            if answer["type"] == "ack":
                return answer
            if answer.get("code") != "channel_unavailable":
                return answer
            await asyncio.sleep(0.2)  # the broker is away: the same message again, shortly
        raise AssertionError(f"{message_id} on {channel} was never acknowledged")
