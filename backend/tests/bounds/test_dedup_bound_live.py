"""With Redis, what recognises a message sent again (its dedup entry) lives exactly as long as
its event in the history: many distinct ids from one sender leave the room's ``:ids`` sorted
set no larger than the stream (ZCARD <= XLEN), and no other key per message. A message sent
again while the history holds it gets the same ``ack`` and is not placed twice, also from a
new connection that gives its ``sender_key`` back; one sent again after the history let it go
is a new message: placed again, at a new position, and heard again.

Without the bound (867e375) each id was a key of its own (``room:{r}:msg:<client>:<id>``)
holding a copy of its event for the history's age, whatever the history kept: this test
finds 200 keys beside the room's five, and the message pushed out of the history is answered
with its old position and never heard again.
"""

import pytest
import redis

from testkit.processes import RedisServer
from tests.bounds.members import JsonMember
from tests.servers import InProcessServer, ThreadServers

ROOM = "dedup"
EVENTS = 50  # APP_ROOM_HISTORY_EVENTS
MESSAGES = 200
TEXT = 4000
ROOM_KEYS = {f"ch:{{chat:{ROOM}}}:{part}" for part in ("meta", "log", "ids", "presence", "counts")}


@pytest.fixture
def server(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(
        broker=True,
        redis_url=redis_server.url,
        room_history_events=EVENTS,
        ws_messages_per_second=10_000,
        ws_message_burst=10_000,
    )


async def test_dedup_entries_live_as_long_as_their_events(
    server: InProcessServer, redis_server: RedisServer
) -> None:
    store = redis.Redis.from_url(redis_server.url)
    ids, log, meta = (
        f"ch:{{chat:{ROOM}}}:ids",
        f"ch:{{chat:{ROOM}}}:log",
        f"ch:{{chat:{ROOM}}}:meta",
    )

    def held() -> tuple[int, int]:
        return int(store.zcard(ids)), int(store.xlen(log))

    try:
        url = f"{server.ws_url}/ws/1?room={ROOM}"
        sender = await JsonMember.join(url)
        await sender.sync()
        watcher = await JsonMember.join(f"{server.ws_url}/ws/2?room={ROOM}")
        await watcher.sync()

        acks = {}
        for number in range(MESSAGES):
            acks[number] = await sender.say(f"m{number}", f"t{number} " + "x" * TEXT)
            assert acks[number]["type"] == "ack"
            if number % 25 == 24:
                entries, events = held()
                assert entries <= events <= EVENTS, (number, entries, events)
        keys = {key.decode() for key in store.scan_iter(f"ch:{{chat:{ROOM}}}:*")}
        assert keys <= ROOM_KEYS, sorted(keys - ROOM_KEYS)[:5]
        entries, events = held()
        assert 0 < entries <= events <= EVENTS
        assert int(store.memory_usage(ids, samples=0) or 0) < 16 * 1024

        # Sent again while the history holds it: the same ack, placed once.
        offset_before = int(store.hget(meta, "offset") or 0)
        again = await sender.say(f"m{MESSAGES - 1}", f"t{MESSAGES - 1} " + "x" * TEXT)
        assert (again["type"], again["offset"]) == ("ack", acks[MESSAGES - 1]["offset"])
        # From a new connection with its own key given back, as after a lost ack.
        await sender.close()
        sender = await JsonMember.join(f"{url}&sender_key={sender.sender_key}")
        await sender.sync()
        again = await sender.say(f"m{MESSAGES - 2}", f"t{MESSAGES - 2} " + "x" * TEXT)
        assert (again["type"], again["offset"]) == ("ack", acks[MESSAGES - 2]["offset"])

        # Sent again once the history let it go: a new message, at a new position.
        gone = await sender.say("m0", "t0 " + "x" * TEXT)
        assert gone["type"] == "ack"
        assert gone["offset"] > offset_before > acks[0]["offset"]
        assert held()[0] <= held()[1] <= EVENTS

        await watcher.wait_for(lambda m: m.get("offset") == gone["offset"], 10)
        heard = [text.split(" ", 1)[0] for text in watcher.texts()]
        assert heard.count(f"t{MESSAGES - 1}") == 1
        assert heard.count(f"t{MESSAGES - 2}") == 1
        assert heard.count("t0") == 2  # once when said, once when said again
        assert heard[:MESSAGES] == [f"t{n}" for n in range(MESSAGES)]
        await sender.close()
        await watcher.close()
    finally:
        store.close()
