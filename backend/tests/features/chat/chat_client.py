"""A realtime.json.v1 chat client for the fault tests, as the SPA's client layer behaves:
it keeps its position in the room, resumes with it after a reconnect, and sends each message
until the room acknowledges it, with the same id every time."""

import asyncio
import contextlib
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

JSON_V1 = [Subprotocol("realtime.json.v1")]


@dataclass
class ChatClient:
    client_id: int
    room: str
    # Where to connect, in order of preference: a client of a process that stopped moves on.
    servers: list[str]
    receive_buffer: int | None = None
    position: tuple[str, int] | None = None
    # Every room event delivered, in the order it came (chat, joined, left).
    events: list[dict[str, Any]] = field(default_factory=list)
    syncs: list[dict[str, Any]] = field(default_factory=list)
    presences: list[dict[str, Any]] = field(default_factory=list)
    connection_ids: list[str] = field(default_factory=list)
    # The key its sends are recognised by (from its first welcome), given back on reconnects.
    sender_key: str | None = None
    duplicates: int = 0
    gaps: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    _connection: ClientConnection | None = None
    _acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _runner: asyncio.Task[None] | None = None
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: bool = False
    # Set while it reads: cleared, it stops taking frames, as a client that hangs would.
    reading: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.reading.set()

    @property
    def paused(self) -> bool:
        return not self.reading.is_set()

    @paused.setter
    def paused(self, paused: bool) -> None:
        if paused:
            self.reading.clear()
        else:
            self.reading.set()

    def said(self) -> list[str]:
        return [event["text"] for event in self.events if event["type"] == "chat"]

    def url(self, server: str) -> str:
        since = f"&since={self.position[0]}:{self.position[1]}" if self.position else ""
        key = f"&sender_key={self.sender_key}" if self.sender_key else ""
        return f"{server}/ws/{self.client_id}?room={self.room}{since}{key}"

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 10)

    async def stop(self) -> None:
        self.stopped = True
        if self._connection is not None:
            await self._connection.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    async def _run(self) -> None:
        attempt = 0
        while not self.stopped:
            server = self.servers[attempt % len(self.servers)]
            with contextlib.suppress(OSError, ConnectionClosed, InvalidHandshake):
                await self._session(server)
            self._connected.clear()
            attempt += 1
            await asyncio.sleep(0.1)

    async def _session(self, server: str) -> None:
        sock = None
        if self.receive_buffer is not None:
            host, port = server.removeprefix("ws://").split(":")
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            sock.connect((host, int(port)))
        async with connect(
            self.url(server), subprotocols=JSON_V1, sock=sock, max_queue=4
        ) as websocket:
            self._connection = websocket
            self._connected.set()
            async for frame in websocket:
                await self.reading.wait()
                self._take(json.loads(frame))

    def _take(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("chat", "joined", "left"):
            here = (message["epoch"], message["offset"])
            if self.position is not None and self.position[0] == here[0]:
                if here[1] <= self.position[1]:
                    self.duplicates += 1
                    return
                if here[1] != self.position[1] + 1:
                    self.gaps += 1
            self.position = here
            self.events.append(message)
        elif kind == "sync":
            self.syncs.append(message)
            if not message["recovered"] and message["epoch"]:
                # A history that was lost, or too far back: start counting from where it is.
                self.position = (message["epoch"], message["offset"])
        elif kind == "welcome":
            self.connection_ids.append(message["connection_id"])
            self.sender_key = self.sender_key or message["sender_key"]
        elif kind == "presence":
            self.presences.append(message)
        elif kind == "ack":
            future = self._acks.get(message["reply_to"])
            if future is not None and not future.done():
                future.set_result(message)
        elif kind == "error":
            self.errors.append(message)
            future = self._acks.get(message.get("reply_to") or "")
            if future is not None and not future.done():
                future.set_result(message)

    async def say(self, text: str, message_id: str, give_up_after: float = 60) -> dict[str, Any]:
        """Sends until the room holds it; its acknowledgement."""
        deadline = asyncio.get_running_loop().time() + give_up_after
        while asyncio.get_running_loop().time() < deadline:
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._acks[message_id] = future
            try:
                await asyncio.wait_for(self._connected.wait(), 5)
                assert self._connection is not None
                await self._connection.send(
                    json.dumps({"type": "text", "id": message_id, "text": text})
                )
                answer = await asyncio.wait_for(future, 3)
            except (TimeoutError, ConnectionClosed, OSError):
                continue
            if answer["type"] == "ack":
                return answer
            await asyncio.sleep(0.2)  # the room is away: the same message again, shortly
        raise AssertionError(f"#{self.client_id}: {text[:40]!r}… was never acknowledged")
