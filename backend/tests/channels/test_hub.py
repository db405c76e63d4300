"""ChannelHub on its own: fan-out, presence across hubs, one member with several connections,
and the slow-consumer rule; the chat's renderers as the guide writes its lines."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import WebSocket
from starlette.datastructures import Address
from starlette.websockets import WebSocketState

from app.channels.connections import HubConnection
from app.channels.declarations import ChannelRegistry
from app.channels.events import ChannelEvent, EventDraft
from app.channels.history import HistoryLimits
from app.channels.hub import ChannelHub
from app.channels.memory_broker import InMemoryBroker
from app.conversation.loop import Conversation
from app.conversation.outlet import OutletLimits
from app.features.chat.channel import CHAT, ChatLine
from app.features.chat.render import CHAT_JSON, GUIDE_CHAT, as_guide_text, as_json
from app.observability.metrics import Metrics

GENERAL = "chat:general"


class FakeSocket:
    """Records what the hub sends. A stuck one never finishes a send or a close, like a client
    that stopped reading."""

    client_state = WebSocketState.CONNECTED  # accepted already

    def __init__(self, *, stuck: bool = False, json: bool = False) -> None:
        self.scope: dict[str, Any] = {
            "subprotocols": ["realtime.json.v1"] if json else [],
            "extensions": {},
        }
        self.query_params: dict[str, str] = {}
        self.url = SimpleNamespace(path="/ws/1")
        self.client = Address("127.0.0.1", 50000)
        self.frames: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        self.stuck = stuck

    async def send_text(self, frame: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.closed_with = (code, reason)


def conversation_of(fake: FakeSocket, limits: OutletLimits | None = None) -> Conversation:
    stats = Metrics(enabled=False).stats_for("/ws/{client_id}")
    return Conversation(cast(WebSocket, fake), stats, limits or OutletLimits(256, 1024 * 1024))


def hub_on(broker: InMemoryBroker) -> ChannelHub:
    registry = ChannelRegistry(HistoryLimits())
    registry.add(CHAT)
    return ChannelHub(broker, registry)


@contextlib.asynccontextmanager
async def following(
    hub: ChannelHub, fake: FakeSocket, member: str, limits: OutletLimits | None = None
) -> AsyncIterator[HubConnection]:
    conversation = conversation_of(fake, limits)
    renderer = CHAT_JSON if fake.scope["subprotocols"] else GUIDE_CHAT
    async with hub.connection(conversation) as connection:
        await connection.subscribe(GENERAL, renderer, member=member)
        yield connection


def line(text: str) -> str:
    return ChatLine(text=text).model_dump_json()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def started(hub: ChannelHub) -> ChannelHub:
    await hub.start()
    return hub


async def test_two_hubs_on_one_broker_chat_like_two_processes() -> None:
    broker = InMemoryBroker()
    one, two = await started(hub_on(broker)), await started(hub_on(broker))
    alice, bob = FakeSocket(), FakeSocket()
    async with following(two, bob, "2"):
        async with following(one, alice, "1"):
            await one.publish(GENERAL, line("across"), sender="1")
            await settle()
            assert alice.frames == ["Client #1 says: across"]
            assert bob.frames == ["Client #1 says: across"]
        await settle()
        assert bob.frames[-1] == "Client #1 left the chat"
    await one.stop()
    await two.stop()


async def test_presence_counts_every_hub() -> None:
    broker = InMemoryBroker()
    one, two = await started(hub_on(broker)), await started(hub_on(broker))
    watcher = FakeSocket(json=True)
    async with following(one, watcher, "1"):
        async with following(two, FakeSocket(), "2"):
            await asyncio.sleep(0.6)  # lists are coalesced: at most one per half second
            assert '{"type":"presence","room":"general","online":[1,2],"complete":true}' in (
                watcher.frames
            )
        await asyncio.sleep(0.6)
        assert watcher.frames[-1] == (
            '{"type":"presence","room":"general","online":[1],"complete":true}'
        )
    await one.stop()
    await two.stop()


async def test_one_member_with_two_connections_joins_once_and_leaves_with_the_last() -> None:
    hub = await started(hub_on(InMemoryBroker()))
    watcher = FakeSocket(json=True)
    async with following(hub, watcher, "9"):
        async with following(hub, FakeSocket(), "11"):
            async with following(hub, FakeSocket(), "11"):
                await settle()
            await settle()
            kinds = [json.loads(frame)["type"] for frame in watcher.frames]
            assert kinds.count("joined") == 2  # 9 itself, and 11 once
            assert "left" not in kinds  # 11 is still connected once
        await settle()
        lefts = [json.loads(f) for f in watcher.frames if json.loads(f)["type"] == "left"]
        assert [left["client_id"] for left in lefts] == [11]
    await hub.stop()


async def test_a_stuck_client_is_dropped_and_the_others_get_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = await started(hub_on(InMemoryBroker()))
    stuck, steady = FakeSocket(stuck=True), FakeSocket()
    async with (
        following(hub, stuck, "1", OutletLimits(5, 1024 * 1024)),
        following(hub, steady, "2"),
    ):
        for number in range(50):
            await hub.publish(GENERAL, line(f"message {number}"), sender="2")
            await settle()
        assert [frame for frame in steady.frames if "says" in frame] == [
            f"Client #2 says: message {number}" for number in range(50)
        ]
        assert "Client #1 left the chat" in steady.frames
        assert {sub.member for sub in hub.subscribers[GENERAL].all()} == {"2"}
    assert "a subscriber of 'chat:general' did not keep up (5 messages, 125 bytes waiting)" in (
        caplog.text
    )
    await hub.stop()


async def test_a_slow_client_that_can_still_read_gets_the_close_code() -> None:
    hub = await started(hub_on(InMemoryBroker()))
    slow = FakeSocket()
    original_send = slow.send_text

    async def slow_send(frame: str) -> None:
        await asyncio.sleep(0.05)  # reads, but far slower than the room talks
        await original_send(frame)

    slow.send_text = slow_send  # type: ignore[method-assign]
    async with following(hub, slow, "1", OutletLimits(3, 1024 * 1024)):
        for number in range(10):
            await hub.publish(GENERAL, line(f"{number}"), sender="1")
        await asyncio.sleep(0.2)
    assert slow.closed_with == (1013, "too slow: messages piled up")
    await hub.stop()


def placed(draft: EventDraft) -> ChannelEvent:
    return ChannelEvent(**draft.model_dump(), epoch="e1", offset=1)


def test_events_render_as_the_guide_writes_them() -> None:
    said = placed(EventDraft.now("published", GENERAL, line("hi"), "x", "7"))
    assert as_guide_text(said) == "Client #7 says: hi"
    assert as_guide_text(placed(EventDraft.now("left", GENERAL, "{}", "x", "7"))) == (
        "Client #7 left the chat"
    )
    assert as_guide_text(placed(EventDraft.now("joined", GENERAL, "{}", "x", "7"))) is None
    rendered: dict[str, Any] = json.loads(as_json(said))
    assert (rendered["type"], rendered["text"], rendered["offset"], rendered["room"]) == (
        "chat",
        "hi",
        1,
        "general",
    )


async def test_a_channel_nobody_here_follows_any_more_leaves_no_presence_behind() -> None:
    # The process remembered who was online elsewhere for every room it ever saw: a client
    # joining room after room grew it without bound. Once a room's last subscriber here is
    # gone, so is what the process knew of the room.
    broker = InMemoryBroker()
    hub, other = await started(hub_on(broker)), await started(hub_on(broker))
    async with following(other, FakeSocket(), "2"):  # someone elsewhere in every room
        for number in range(20):
            room = f"chat:room-{number}"
            async with hub.connection(conversation_of(FakeSocket(json=True))) as connection:
                await connection.subscribe(room, CHAT_JSON, member="1")
                await hub.presence.push(room)  # what is known of the room: pushed and kept
            await settle()
    assert hub.presence._cluster == {}  # the cache under test
    assert not hub.subscribers
    await hub.stop()
    await other.stop()
