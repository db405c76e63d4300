"""Publishing to a channel from anywhere: a route or a background task in any worker (one typed
dependency), another process that shares Redis (``publish_elsewhere``, and ``python -m app
publish``), or another service over HTTP (``POST /api/channels/{name}/events``).

Every way goes through the channel's declaration: the name must match one, the payload is
checked against its model, and the event reaches every subscriber on every process, once
placed. ``publish`` returns the event's position once the channel holds it, or raises: a
route that publishes after its own work committed is told whether it reached the channel.
"""

import hashlib
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection

from app.channels.declarations import ChannelRegistry, Resolved
from app.channels.events import ChannelEvent, ChannelUnavailable, EventDraft, Position
from app.channels.hub import ChannelHub


class UnknownChannel(LookupError):
    """No declared channel has this name."""


class InvalidPayload(ValueError):
    """The payload does not fit the channel's model; the message says where."""


def checked_payload(resolved: Resolved, data: BaseModel | dict[str, object]) -> str:
    """The payload as the JSON an event carries, once it fits the channel's model."""
    model = resolved.channel.payload
    if isinstance(data, BaseModel):
        if not isinstance(data, model):
            raise InvalidPayload(f"{resolved.channel.pattern} carries {model.__name__}")
        return data.model_dump_json()
    try:
        return model.model_validate(data).model_dump_json()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'data'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise InvalidPayload(problems) from exc


def dedup_key(sender_key: str, message_id: str) -> str:
    """What recognises a message a connection sends again: the sender's own key (a secret
    between it and the server, never broadcast) and its id, hashed so that the broker never
    holds the key."""
    return f"{hashlib.sha256(sender_key.encode()).hexdigest()[:24]}:{message_id}"


def position_of(event: ChannelEvent) -> Position:
    return Position(event.epoch, event.offset)


class Publisher:
    """What routes and jobs publish with (``PublisherDep``)."""

    def __init__(self, hub: ChannelHub) -> None:
        self.hub = hub

    def resolve(self, channel: str) -> Resolved:
        resolved = self.hub.registry.resolve(channel)
        if resolved is None:
            raise UnknownChannel(f"no channel is declared for {channel[:100]}")
        return resolved

    async def publish(
        self,
        channel: str,
        data: BaseModel | dict[str, object],
        *,
        sender: str | None = None,
        idempotency_key: str | None = None,
    ) -> Position:
        """Places ``data`` in the channel; its position once every process can hear it. The
        same ``idempotency_key`` again, while the channel holds the event, is the same event.
        Raises ``UnknownChannel``, ``InvalidPayload``, ``ChannelUnavailable`` (the broker is
        away: nothing was placed), its ``OutcomeUnknown`` (the broker did not answer in time:
        it may have been placed; the same ``idempotency_key`` again places it at most once),
        ``ChannelsFull``."""
        position, _duplicate = await self.publish_reporting(
            channel, data, sender=sender, idempotency_key=idempotency_key
        )
        return position

    async def publish_reporting(
        self,
        channel: str,
        data: BaseModel | dict[str, object],
        *,
        sender: str | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Position, bool]:
        """As ``publish``, and whether the key named an event the channel held already."""
        resolved = self.resolve(channel)
        payload = checked_payload(resolved, data)
        # One publisher's key: another's same key is another event.
        dedup = None if idempotency_key is None else f"server:{sender or ''}:{idempotency_key}"
        draft = EventDraft.now(
            "published", resolved.name, payload, self.hub.node_id, sender, idempotency_key
        )
        event, duplicate = await self.hub.place(draft, dedup)
        return position_of(event), duplicate


async def publisher_of(connection: HTTPConnection) -> Publisher:
    publisher: Publisher = connection.app.state.publisher
    return publisher


PublisherDep = Annotated[Publisher, Depends(publisher_of)]


async def publish_elsewhere(
    registry: ChannelRegistry,
    redis_url: str,
    channel: str,
    data: BaseModel | dict[str, object],
    *,
    origin: str = "outside",
    idempotency_key: str | None = None,
) -> Position:
    """Publishes from a process that serves no connections (a script, a cron job): through the
    Redis every app process shares, so that their subscribers get it. Raises as ``publish``."""
    from app.channels.redis_broker import RedisBroker

    resolved = registry.resolve(channel)
    if resolved is None:
        raise UnknownChannel(f"no channel is declared for {channel[:100]}")
    payload = checked_payload(resolved, data)
    broker = RedisBroker(redis_url, limits=registry.limits_for, max_channels=1)
    try:
        if not await broker.connect_once():
            raise ChannelUnavailable("Redis cannot be reached")
        draft = EventDraft.now("published", resolved.name, payload, origin, None, idempotency_key)
        dedup = None if idempotency_key is None else f"server:{idempotency_key}"
        event, _ = await broker.append(draft, dedup)
        return position_of(event)
    finally:
        await broker.stop()
