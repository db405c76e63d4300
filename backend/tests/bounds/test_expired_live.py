"""A member away longer than the history's age (APP_ROOM_HISTORY_SECONDS, 2 s here), after
fewer events than the count bound, is told ``expired``, not ``too_far_behind``; one back
within it recovers everything. Away twice: 2.5 s (the events are still stored, but stale) and
4 s (in memory they have been dropped for their age; in Redis the room's log itself has
expired, 3 s after its last event).

Without it (867e375) the Redis member away 4 s is told ``too_far_behind`` (the log expired,
and the history could not tell age from count), and that test fails on the reason. The
in-memory one passes there too: that history kept stale events and filtered them when read;
here it guards the history that now drops them for their age (``aged_out``).
"""

import asyncio
import time

import pytest
from websockets.asyncio.client import connect

from testkit.processes import RedisServer
from tests.bounds.members import JsonMember, position_of
from tests.servers import InProcessServer, ThreadServers

ROOM = "aging"
AGE = 2.0  # APP_ROOM_HISTORY_SECONDS


@pytest.fixture
def in_memory(thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(room_history_seconds=AGE)


@pytest.fixture
def with_redis(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(broker=True, redis_url=redis_server.url, room_history_seconds=AGE)


async def away_too_long_is_expired(server: InProcessServer) -> None:
    url = f"{server.ws_url}/ws/1?room={ROOM}"
    talker = await connect(f"{server.ws_url}/ws/2?room={ROOM}")

    async def said(text: str) -> None:
        await talker.send(text)
        while await talker.recv() != f"Client #2 says: {text}":
            pass

    member = await JsonMember.join(url)
    position = position_of(await member.sync())
    await member.close()
    await said("while you were briefly away")
    # Back within the history's age: everything it missed.
    member = await JsonMember.join(f"{url}&since={position}")
    sync = await member.sync()
    assert (sync["recovered"], sync["reason"]) == (True, None)
    assert "while you were briefly away" in member.texts()
    position = position_of(member.of("joined")[-1])
    await member.close()

    for away_for in (AGE + 0.5, AGE + 2):
        for text in ("one", "two", "three"):  # 1,000 events may be kept: far from it
            await said(f"{text} ({away_for} s)")
        left_at = time.monotonic()
        await asyncio.sleep(away_for)
        member = await JsonMember.join(f"{url}&since={position}")
        sync = await member.sync()
        away = time.monotonic() - left_at
        assert (sync["recovered"], sync["reason"]) == (False, "expired"), (sync, away)
        assert not member.texts()  # nothing older than the age is given
        position = position_of(member.of("joined")[-1])
        await member.close()
    await talker.close()


async def test_a_member_away_longer_than_the_history_is_told_expired_in_memory(
    in_memory: InProcessServer,
) -> None:
    await away_too_long_is_expired(in_memory)


async def test_a_member_away_longer_than_the_history_is_told_expired_with_redis(
    with_redis: InProcessServer,
) -> None:
    await away_too_long_is_expired(with_redis)
