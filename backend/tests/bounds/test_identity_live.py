"""A client number is claimed, not proven, and message ids are broadcast: a client that joins
as another's number and sends that client's next ids first must not make its messages vanish.
Sends are recognised by the sender's own key (told only to it, in ``welcome``), so the
victim's send is placed and acknowledged at its own position, and everyone hears it.

Without that (867e375, dedup keyed by client number and message id) the victim's ``m2`` and
``m3`` are taken for the attacker's: the victim gets an ack pointing at the attacker's event,
and nobody ever hears its text. This test fails at the first ack's position.
"""

import pytest

from testkit.processes import RedisServer
from tests.bounds.members import JsonMember
from tests.servers import InProcessServer, ThreadServers

ROOM = "hijack"
VICTIM = 7


@pytest.fixture
def in_memory(thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start()


@pytest.fixture
def with_redis(redis_server: RedisServer, thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(broker=True, redis_url=redis_server.url)


async def victims_messages_cannot_be_hijacked(server: InProcessServer) -> None:
    victim = await JsonMember.join(f"{server.ws_url}/ws/{VICTIM}?room={ROOM}")
    await victim.sync()
    watcher = await JsonMember.join(f"{server.ws_url}/ws/8?room={ROOM}")
    await watcher.sync()
    first = await victim.say("m1", "hello, from the victim")
    assert first["type"] == "ack"

    # The attacker claims the victim's number, reads its last id from the history, and
    # sends the next ids first; it may even give a sender key of its own choosing.
    attacker = await JsonMember.join(
        f"{server.ws_url}/ws/{VICTIM}?room={ROOM}&sender_key=attacker-chosen-key-0001"
    )
    await attacker.sync()
    said = [m for m in attacker.messages if m["type"] == "chat"]
    assert said[-1]["message_id"] == "m1"
    forged = {
        message_id: await attacker.say(message_id, f"forged {message_id}")
        for message_id in ("m2", "m3")
    }

    for message_id in ("m2", "m3"):
        text = f"the victim's own {message_id}"
        ack = await victim.say(message_id, text)
        assert ack["type"] == "ack", ack
        assert ack["offset"] != forged[message_id]["offset"], "given the attacker's event"
        # The position acknowledged holds the victim's words, for everyone.
        at: int = ack["offset"]
        for member in (watcher, victim, attacker):
            event = await member.wait_for(
                lambda m, at=at: m["type"] == "chat" and m["offset"] == at  # type: ignore[misc]
            )
            assert (event["text"], event["client_id"]) == (text, VICTIM)
    for member in (watcher, victim):
        assert [t for t in member.texts() if t.startswith("the victim's own")] == [
            "the victim's own m2",
            "the victim's own m3",
        ]
    for member in (victim, attacker, watcher):
        await member.close()


async def test_a_claimed_number_cannot_hijack_sends_in_memory(in_memory: InProcessServer) -> None:
    await victims_messages_cannot_be_hijacked(in_memory)


async def test_a_claimed_number_cannot_hijack_sends_with_redis(with_redis: InProcessServer) -> None:
    await victims_messages_cannot_be_hijacked(with_redis)
