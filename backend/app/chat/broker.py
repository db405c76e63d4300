"""The broker that carries chat events between processes, and knows who is online.

The interface follows encode/broadcaster's (publish to a channel, subscribe to one), plus presence.
``InMemoryBroker`` serves one process, and tests that put several hubs in one process;
``RedisBroker`` (redis_broker.py) serves many processes on many hosts.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, str], None]  # (channel, payload)


@dataclass(frozen=True)
class BrokerHealth:
    kind: Literal["memory", "redis"]
    connected: bool


class Broker(ABC):
    """Channels and presence shared by every process of the app."""

    def __init__(self) -> None:
        self._handlers: list[MessageHandler] = []

    def on_message(self, handler: MessageHandler) -> None:
        """Calls ``handler(channel, payload)`` for each message on a subscribed channel."""
        self._handlers.append(handler)

    def _dispatch(self, channel: str, payload: str) -> None:
        for handler in self._handlers:
            try:
                handler(channel, payload)
            except Exception:
                logger.exception("chat broker: a handler failed on a message from %s", channel)

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def health(self) -> BrokerHealth: ...

    @abstractmethod
    async def publish(self, channel: str, payload: str) -> None:
        """Hands the payload to every subscriber of the channel; best effort while down."""

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Starts delivering the channel's messages; kept across reconnects."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def presence_add(self, room: str, key: str) -> None:
        """Records a connection in a room; ``key`` ends with ``/{client_id}``."""

    @abstractmethod
    async def presence_remove(self, room: str, key: str) -> None: ...

    @abstractmethod
    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        """Confirms that these connections are still there (a process that dies stops doing it)."""

    @abstractmethod
    async def online(self, room: str) -> set[int]:
        """The client ids connected to the room, in every process."""


def client_id_of(key: str) -> int:
    return int(key.rsplit("/", 1)[1])


class InMemoryBroker(Broker):
    """Every handler hears every channel: a hub ignores rooms it has no clients in."""

    def __init__(self) -> None:
        super().__init__()
        self._presence: dict[str, set[str]] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def health(self) -> BrokerHealth:
        return BrokerHealth(kind="memory", connected=True)

    async def publish(self, channel: str, payload: str) -> None:
        self._dispatch(channel, payload)

    async def subscribe(self, channel: str) -> None:
        pass

    async def unsubscribe(self, channel: str) -> None:
        pass

    async def presence_add(self, room: str, key: str) -> None:
        self._presence.setdefault(room, set()).add(key)

    async def presence_remove(self, room: str, key: str) -> None:
        keys = self._presence.get(room, set())
        keys.discard(key)
        if not keys:
            self._presence.pop(room, None)

    async def presence_refresh(self, room: str, keys: list[str]) -> None:
        pass  # nothing here outlives the process

    async def online(self, room: str) -> set[int]:
        return {client_id_of(key) for key in self._presence.get(room, ())}
