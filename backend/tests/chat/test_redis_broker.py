"""RedisBroker against a real redis-server: pub/sub, presence without ghosts, outages."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.chat.redis_broker import RedisBroker
from testkit.processes import RedisServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def eventually(check: Callable[[], Awaitable[bool] | bool], seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        outcome = check()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        await asyncio.sleep(0.05)


def broker(server: RedisServer, **options: float) -> RedisBroker:
    return RedisBroker(server.url, control_channel="test:control", **options)


@pytest.mark.anyio
async def test_a_message_published_by_one_broker_reaches_another(redis_server: RedisServer) -> None:
    sender, receiver = broker(redis_server), broker(redis_server)
    received: list[tuple[str, str]] = []
    receiver.on_message(lambda channel, payload: received.append((channel, payload)))
    await sender.start()
    await receiver.start()
    await eventually(lambda: sender.health().connected and receiver.health().connected)
    await receiver.subscribe("chat:room:general")
    await asyncio.sleep(0.2)  # SUBSCRIBE reaches Redis
    await sender.publish("chat:room:general", "hello")
    await sender.publish("chat:room:other", "not for you")
    await eventually(lambda: received == [("chat:room:general", "hello")])
    await sender.stop()
    await receiver.stop()


@pytest.mark.anyio
async def test_presence_is_shared_and_a_dead_process_leaves_no_ghost(
    redis_server: RedisServer,
) -> None:
    living, dying = broker(redis_server, presence_ttl=1.0), broker(redis_server, presence_ttl=1.0)
    await living.start()
    await dying.start()
    await eventually(lambda: living.health().connected and dying.health().connected)
    await living.presence_add("general", "node-a/1/7")
    await dying.presence_add("general", "node-b/1/8")
    assert await living.online("general") == {7, 8}
    await living.presence_remove("general", "node-a/1/7")
    assert await living.online("general") == {8}
    await dying.stop()  # dies without removing its entries, as a killed process would
    await eventually(lambda: _online_is(living, set()), seconds=5)
    await living.stop()


async def _online_is(broker: RedisBroker, expected: set[int]) -> bool:
    return await broker.online("general") == expected


@pytest.mark.anyio
async def test_survives_redis_going_away_and_resubscribes_when_it_returns(
    redis_server: RedisServer,
) -> None:
    sender, receiver = broker(redis_server), broker(redis_server)
    received: list[str] = []
    receiver.on_message(lambda _channel, payload: received.append(payload))
    await sender.start()
    await receiver.start()
    await receiver.subscribe("chat:room:general")
    await eventually(lambda: sender.health().connected and receiver.health().connected)

    redis_server.stop()
    await sender.publish("chat:room:general", "into the void")  # no exception: best effort
    await eventually(lambda: not receiver.health().connected and not sender.health().connected)
    assert await receiver.online("general") == set()

    redis_server.start()
    await eventually(lambda: sender.health().connected and receiver.health().connected)
    await asyncio.sleep(0.2)
    await sender.publish("chat:room:general", "back again")
    await eventually(lambda: received == ["back again"])
    await sender.stop()
    await receiver.stop()
