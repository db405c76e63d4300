"""RedisBroker against a real redis-server: placing events, history, presence, outages."""

import asyncio
import json
from typing import Any

import pytest

from app.channels.events import ChannelEvent, ChannelUnavailable, EventDraft, Position
from app.channels.history import HistoryLimits
from app.channels.redis_broker import RedisBroker
from testkit.processes import RedisServer
from testkit.waiting import wait_until_async


async def started(server: RedisServer, **options: Any) -> RedisBroker:
    broker = RedisBroker(server.url, limits=HistoryLimits(max_events=5), **options)
    await broker.start()
    await wait_until_async(lambda: broker.health().connected, 10, "the broker connected")
    return broker


CHANNEL = "chat:general"


def said(text: str, member: str = "1", message_id: str | None = None) -> EventDraft:
    return EventDraft.now(
        "published", CHANNEL, json.dumps({"text": text}), "test", member, message_id
    )


def text_of(event: ChannelEvent) -> str:
    text: str = json.loads(event.data)["text"]
    return text


async def test_events_are_placed_in_order_and_reach_every_process(
    redis_server: RedisServer,
) -> None:
    sender, receiver = await started(redis_server), await started(redis_server)
    received: list[ChannelEvent] = []
    receiver.on_event(received.append)
    await receiver.subscribe(CHANNEL)
    await asyncio.sleep(0.2)  # SUBSCRIBE reaches Redis
    placed = [(await sender.append(said(f"m{n}")))[0] for n in range(3)]
    assert [event.offset for event in placed] == [1, 2, 3]
    assert len({event.epoch for event in placed}) == 1
    await wait_until_async(
        lambda: [text_of(event) for event in received] == ["m0", "m1", "m2"],
        10,
        "m0 to m2 received",
    )
    assert [event.offset for event in received] == [1, 2, 3]
    await sender.stop()
    await receiver.stop()


async def test_a_message_sent_again_is_placed_once(redis_server: RedisServer) -> None:
    broker = await started(redis_server)
    first, duplicate = await broker.append(said("once", message_id="m1"), "sender-a:m1")
    again, is_duplicate = await broker.append(said("once", message_id="m1"), "sender-a:m1")
    assert (duplicate, is_duplicate) == (False, True)
    assert again == first
    # The same client number and id from another sender (its own key) is another message.
    other, _ = await broker.append(said("once", message_id="m1"), "sender-b:m1")
    assert other.offset == first.offset + 1
    await broker.stop()


async def test_replay_gives_what_was_missed_or_says_why_not(redis_server: RedisServer) -> None:
    broker = await started(redis_server)
    events = [(await broker.append(said(f"m{n}")))[0] for n in range(8)]  # history holds 5
    epoch = events[0].epoch
    caught_up = await broker.replay(CHANNEL, Position(epoch, 6))
    assert [event.offset for event in caught_up.events] == [7, 8]
    assert (caught_up.recovered, caught_up.position) == (True, Position(epoch, 8))
    behind = await broker.replay(CHANNEL, Position(epoch, 1))
    assert (behind.recovered, behind.reason) == (False, "too_far_behind")
    lost = await broker.replay(CHANNEL, Position("another", 3))
    assert (lost.recovered, lost.reason) == (False, "epoch_changed")
    gap = await broker.read_range(CHANNEL, epoch, 5, 7)
    assert [event.offset for event in gap] == [6, 7]
    await broker.stop()


async def test_a_redis_that_comes_back_empty_starts_a_new_epoch(
    redis_server: RedisServer,
) -> None:
    broker = await started(redis_server)
    before, _ = await broker.append(said("before"))
    redis_server.stop()
    await wait_until_async(lambda: not broker.health().connected, 10, "the broker disconnected")
    with pytest.raises(ChannelUnavailable):  # fails fast, without waiting on a timeout
        await broker.append(said("into the void"))
    redis_server.start()
    await wait_until_async(lambda: broker.health().connected, 10, "the broker connected")
    replay = await broker.replay(CHANNEL, Position(before.epoch, before.offset))
    assert (replay.recovered, replay.reason) == (False, "epoch_changed")
    after, _ = await broker.append(said("after"))
    assert (after.epoch, after.offset) == (replay.position.epoch, 1)
    await broker.stop()


async def test_presence_is_shared_and_a_dead_process_is_reaped_once(
    redis_server: RedisServer,
) -> None:
    living = await started(redis_server, presence_ttl=0.5)
    other = await started(redis_server, presence_ttl=0.5)
    dying = await started(redis_server, presence_ttl=0.5)
    await living.presence_add(CHANNEL, "node-a/1/7")
    await dying.presence_add(CHANNEL, "node-b/1/8")
    assert await living.online(CHANNEL) == {"7", "8"}
    await living.presence_remove(CHANNEL, "node-a/1/7")
    assert await living.online(CHANNEL) == {"8"}
    await dying.stop()  # dies without removing its entries, as a killed process would
    await asyncio.sleep(0.7)
    assert await living.online(CHANNEL) == set()  # no ghost
    reaped = await asyncio.gather(living.reap(CHANNEL), other.reap(CHANNEL))
    assert sorted(reaped) == [[], ["8"]]  # announced by one process only
    await living.stop()
    await other.stop()
