"""``WS /ws/realtime``: one connection per tab for every channel a page follows.

It speaks ``realtime.json.v1`` only (a client that offers neither of our subprotocols is
refused at the handshake, one that offers ``realtime.text.v1`` with a close that says why).
Each request names its channel; a refusal (a channel it may not follow, too many channels,
a payload that does not fit) is an ``error`` for that request, and the connection stays. The
channels' declarations decide who may follow and publish (``app.channels.declarations``);
every event goes out as a generic ``event`` message, tagged with its channel and position.
"""

import json

from fastapi import APIRouter, WebSocket, status
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.channels.connections import HubConnection
from app.channels.declarations import PublishContext, Resolved
from app.channels.events import ChannelEvent, ChannelUnavailable, NotRecovered, Position
from app.channels.hub import ChannelHub
from app.channels.ledger import ChannelsFull, OpeningTooFast
from app.channels.messages import (
    CHANNEL_SERVER_MESSAGES,
    MULTIPLEXED_ENDPOINT,
    ChannelAck,
    ChannelClientMessage,
    ChannelPresence,
    ChannelSync,
    Publish,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from app.channels.publisher import dedup_key
from app.channels.subscribers import CachingRenderer
from app.conversation.description import speaks
from app.conversation.dialects import Dialect
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.conversation.messages import Error, ErrorCode
from app.conversation.refusals import refuse
from app.deps import HubDep, SettingsDep, start_conversation
from app.security.credentials import OptionalPrincipalDep
from app.security.principal import Principal
from app.server.wire import WireFrame

router = APIRouter(tags=["channels"])

JSON_ONLY = "this endpoint speaks realtime.json.v1: offer it as the subprotocol"


class ChannelEvents(CachingRenderer):
    """The multiplexed endpoint's messages: every event as a generic ``event``, its payload
    embedded as the JSON it was placed with (parsed by nobody on its way)."""

    positional = True

    def render(self, event: ChannelEvent) -> WireFrame | None:
        head = {
            "type": "event",
            "channel": event.channel,
            "epoch": event.epoch,
            "offset": event.offset,
            "at": event.at,
            "kind": event.kind,
            "sender": event.sender,
            "message_id": event.message_id,
        }
        return WireFrame(
            json.dumps(head, separators=(",", ":"))[:-1] + ',"data":' + event.data + "}"
        )

    def sync(
        self,
        channel: str,
        position: Position,
        recovered: bool,
        reason: NotRecovered | None,
        replayed: int,
    ) -> WireFrame | None:
        message = ChannelSync(
            channel=channel,
            epoch=position.epoch,
            offset=position.offset,
            recovered=recovered,
            reason=reason,
            replayed=replayed,
        )
        return WireFrame(message.model_dump_json())

    def presence(self, channel: str, online: tuple[str, ...], complete: bool) -> WireFrame | None:
        message = ChannelPresence(channel=channel, online=list(online), complete=complete)
        return WireFrame(message.model_dump_json())


CHANNEL_EVENTS = ChannelEvents()
channel_message_adapter: TypeAdapter[BaseModel] = TypeAdapter(ChannelClientMessage)


class RealtimeMessages(Handler):
    client_messages = channel_message_adapter

    def __init__(
        self,
        hub: ChannelHub,
        connection: HubConnection,
        principal: Principal | None,
        max_channels: int,
    ) -> None:
        self.hub = hub
        self.connection = connection
        self.principal = principal
        self.max_channels = max_channels

    async def on_message(self, conversation: Conversation, message: BaseModel) -> None:
        await self.connection.wait_for_room()
        if isinstance(message, Subscribe):
            await self.subscribe(conversation, message)
        elif isinstance(message, Unsubscribe):
            await self.connection.unsubscribe(message.channel)
            answer = Unsubscribed(reply_to=message.id, channel=message.channel)
            await conversation.send(answer.model_dump_json())
        elif isinstance(message, Publish):
            await self.publish(conversation, message)

    async def refuse(
        self, conversation: Conversation, code: ErrorCode, detail: str, reply_to: str
    ) -> None:
        self.hub.metrics.channel_refused(code)
        await conversation.send(
            Error(code=code, detail=detail, reply_to=reply_to).model_dump_json()
        )

    async def resolve(
        self, conversation: Conversation, name: str, reply_to: str
    ) -> Resolved | None:
        """The channel's declaration; None, with the client told, when no channel has the name."""
        resolved = self.hub.registry.resolve(name)
        if resolved is None:
            await self.refuse(conversation, "unknown_channel", f"no channel {name[:80]}", reply_to)
        return resolved

    async def subscribe(self, conversation: Conversation, message: Subscribe) -> None:
        resolved = await self.resolve(conversation, message.channel, message.id)
        if resolved is None:
            return
        channel = resolved.channel
        if not channel.subscribe(self.principal, resolved.params):
            await self.refuse(
                conversation, "forbidden", f"you may not follow {resolved.name[:80]}", message.id
            )
            return
        already = resolved.name in self.connection.subscriptions
        if not already and len(self.connection.subscriptions) >= self.max_channels:
            await self.refuse(
                conversation,
                "too_many_channels",
                f"a connection follows at most {self.max_channels} channels",
                message.id,
            )
            return
        member = self.member_for(resolved, message.member)
        if isinstance(member, Error):
            await conversation.send(
                member.model_copy(update={"reply_to": message.id}).model_dump_json()
            )
            return
        since = None
        if message.since is not None:
            try:
                since = Position.parse(message.since)
            except ValueError as exc:
                await self.refuse(conversation, "invalid_message", f"since: {exc}", message.id)
                return
        if already:  # asked again: followed afresh, from the position it gives now
            current = self.connection.subscriptions[resolved.name]
            if current.member == member:
                subscribed = Subscribed(reply_to=message.id, channel=resolved.name)
                await conversation.send(subscribed.model_dump_json())
                await self.hub.refollow(current, since)
                return
            await self.connection.unsubscribe(resolved.name)  # as another member: leaves
        try:
            self.hub.broker.admit(resolved.name, opener=conversation.address)
        except ChannelsFull as exc:
            await self.refuse(
                conversation,
                "channels_full",
                str(exc)
                if isinstance(exc, OpeningTooFast)
                else "this server keeps as many channels as it may: try again later",
                message.id,
            )
            return
        subscribed = Subscribed(reply_to=message.id, channel=resolved.name)
        await conversation.send(subscribed.model_dump_json())
        await self.connection.subscribe(resolved.name, CHANNEL_EVENTS, since=since, member=member)

    def member_for(self, resolved: Resolved, asked: str | None) -> str | Error | None:
        """How the subscriber shows in the channel's presence (None: not listed)."""
        channel = resolved.channel
        if not channel.presence:
            return None
        if channel.member is None:
            return None if self.principal is None else self.principal.subject
        if asked is None or not channel.member(asked):
            return Error(
                code="invalid_message",
                detail=f"member: {resolved.name[:60]} needs a valid member to show as",
                reply_to=None,
            )
        return asked

    async def publish(self, conversation: Conversation, message: Publish) -> None:
        resolved = await self.resolve(conversation, message.channel, message.id)
        if resolved is None:
            return
        channel = resolved.channel
        if not channel.publish(self.principal, resolved.params):
            await self.refuse(
                conversation,
                "forbidden",
                f"you may not publish to {resolved.name[:80]}",
                message.id,
            )
            return
        try:
            payload = channel.payload.model_validate(message.data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'data'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            await self.refuse(conversation, "invalid_payload", problems[:500], message.id)
            return
        subscription = self.connection.subscriptions.get(resolved.name)
        member = None if subscription is None else subscription.member
        if channel.presence and member is None:
            await self.refuse(
                conversation,
                "not_subscribed",
                f"follow {resolved.name[:80]} as a member before publishing to it",
                message.id,
            )
            return
        if channel.prepare is not None:
            payload = channel.prepare(
                payload, PublishContext(self.principal, member, resolved.params)
            )
        sender = (
            member if channel.presence else (self.principal.subject if self.principal else None)
        )
        try:
            event = await self.hub.publish(
                resolved.name,
                payload.model_dump_json(),
                sender=sender,
                message_id=message.id,
                dedup=dedup_key(conversation.sender_key, message.id),
            )
        except ChannelUnavailable:
            await self.refuse(
                conversation,
                "channel_unavailable",
                "the channel cannot take messages right now: send it again in a moment",
                message.id,
            )
            return
        ack = ChannelAck(
            reply_to=message.id, channel=resolved.name, epoch=event.epoch, offset=event.offset
        )
        await conversation.send(ack.model_dump_json())

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        pass  # no `text` messages here (they are answered unknown_type)

    async def on_bytes(self, conversation: Conversation, data: bytes) -> None:
        await conversation.close(status.WS_1003_UNSUPPORTED_DATA, "this endpoint takes JSON text")


@router.websocket(MULTIPLEXED_ENDPOINT)
@speaks(receives=[Subscribe, Unsubscribe, Publish], sends=CHANNEL_SERVER_MESSAGES, text=False)
async def realtime(
    websocket: WebSocket,
    hub: HubDep,
    settings: SettingsDep,
    principal: OptionalPrincipalDep,
) -> None:
    """Every channel a page follows, over one connection (realtime.json.v1 only)."""
    conversation, limits, metrics = start_conversation(websocket)
    if conversation.dialect is not Dialect.JSON_V1:
        await refuse(websocket, status.WS_1008_POLICY_VIOLATION, JSON_ONLY)
        return
    async with hub.connection(conversation) as connection:
        handler = RealtimeMessages(hub, connection, principal, settings.channels_per_connection)
        await serve_conversation(conversation, handler, limits, metrics)
