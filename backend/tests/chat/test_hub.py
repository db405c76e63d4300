"""ChatHub on its own: fan-out, presence across hubs, and the slow-consumer rule."""

import asyncio
from typing import Any, cast

import pytest
from fastapi import WebSocket
from starlette.websockets import WebSocketState

from app.chat.hub import ChatHub
from app.conversation.outlet import OutletLimits
from app.rooms.broker import InMemoryBroker


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


def as_websocket(fake: FakeSocket) -> WebSocket:
    return cast(WebSocket, fake)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def started(hub: ChatHub) -> ChatHub:
    await hub.start()
    return hub


@pytest.mark.anyio
async def test_two_hubs_on_one_broker_chat_like_two_processes() -> None:
    broker = InMemoryBroker()
    one, two = await started(ChatHub(broker)), await started(ChatHub(broker))
    alice, bob = FakeSocket(), FakeSocket()
    async with two.join(as_websocket(bob), "general", 2):
        async with one.join(as_websocket(alice), "general", 1) as alice_member:
            await one.say(alice_member, "across")
            await settle()
            assert alice.frames == ["Client #1 says: across"]
            assert bob.frames == ["Client #1 says: across"]
        await settle()
        assert bob.frames[-1] == "Client #1 left the chat"
    await one.stop()
    await two.stop()


@pytest.mark.anyio
async def test_presence_counts_every_hub() -> None:
    broker = InMemoryBroker()
    one, two = await started(ChatHub(broker)), await started(ChatHub(broker))
    watcher = FakeSocket(json=True)
    async with one.join(as_websocket(watcher), "room", 1):
        async with two.join(as_websocket(FakeSocket()), "room", 2):
            await asyncio.sleep(0.6)  # lists are coalesced: at most one per half second
            assert '{"type":"presence","room":"room","online":[1,2],"complete":true}' in (
                watcher.frames
            )
        await asyncio.sleep(0.6)
        assert watcher.frames[-1] == (
            '{"type":"presence","room":"room","online":[1],"complete":true}'
        )
    await one.stop()
    await two.stop()


@pytest.mark.anyio
async def test_a_stuck_client_is_dropped_and_the_others_get_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = await started(ChatHub(InMemoryBroker(), outlet_limits=OutletLimits(5, 1024 * 1024)))
    stuck, steady = FakeSocket(stuck=True), FakeSocket()
    async with (
        hub.join(as_websocket(stuck), "general", 1),
        hub.join(as_websocket(steady), "general", 2) as speaker,
    ):
        for number in range(50):
            await hub.say(speaker, f"message {number}")
            await settle()
        assert [frame for frame in steady.frames if "says" in frame] == [
            f"Client #2 says: message {number}" for number in range(50)
        ]
        assert "Client #1 left the chat" in steady.frames
        assert {member.client_id for member in hub.members["general"].all()} == {2}
    assert "client #1 in 'general' did not keep up (5 messages, 125 bytes waiting): " in (
        caplog.text
    )
    await hub.stop()


@pytest.mark.anyio
async def test_a_slow_client_that_can_still_read_gets_the_close_code() -> None:
    hub = await started(ChatHub(InMemoryBroker(), outlet_limits=OutletLimits(3, 1024 * 1024)))
    slow = FakeSocket()
    sends = 0
    original_send = slow.send_text

    async def slow_send(frame: str) -> None:
        nonlocal sends
        sends += 1
        await asyncio.sleep(0.05)  # reads, but far slower than the room talks
        await original_send(frame)

    slow.send_text = slow_send  # type: ignore[method-assign]
    async with hub.join(as_websocket(slow), "general", 1) as member:
        for number in range(10):
            await hub.say(member, f"{number}")
        await asyncio.sleep(0.2)
    assert slow.closed_with == (1013, "too slow: messages piled up")
    await hub.stop()


def test_events_render_as_the_guide_writes_them() -> None:
    from app.chat.render import as_guide_text, as_json
    from app.rooms.events import EventDraft, RoomEvent

    def placed(draft: EventDraft) -> RoomEvent:
        return RoomEvent(**draft.model_dump(), epoch="e1", offset=1)

    said = placed(EventDraft.now("said", "general", 7, origin="x", text="hi"))
    assert as_guide_text(said) == "Client #7 says: hi"
    assert as_guide_text(placed(EventDraft.now("left", "general", 7, origin="x"))) == (
        "Client #7 left the chat"
    )
    assert as_guide_text(placed(EventDraft.now("joined", "general", 7, origin="x"))) is None
    rendered: dict[str, Any] = __import__("json").loads(as_json(said))
    assert (rendered["type"], rendered["text"], rendered["offset"]) == ("chat", "hi", 1)
