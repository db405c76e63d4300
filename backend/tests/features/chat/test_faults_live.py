"""Chat that loses nothing, under real faults: real processes, a real Redis, real sockets.

Each test plays a fault an operator meets (a deploy's SIGTERM, Redis restarting empty, a
process killed outright, a client that stops reading) and checks what the chat's users see.
"""

import asyncio
import signal
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.sync.client import connect

from app.settings import Settings
from testkit.processes import RedisServer
from testkit.waiting import wait_until_async
from tests.features.chat.chat_client import ChatClient
from tests.servers import LiveServer, serve_in_thread


@pytest.fixture
def two_processes_settings(redis_server: RedisServer) -> dict[str, str]:
    return {
        "APP_REDIS_URL": redis_server.url,
        "APP_LOG_LEVEL": "info",
        "APP_SHUTDOWN_DRAIN_SECONDS": "0.2",
    }


async def test_clients_of_a_stopped_process_move_on_and_miss_nothing(
    two_processes: list[LiveServer],
) -> None:
    first, second = two_processes
    room = "failover"

    # Three on the first process (which will be stopped), two on the second.
    clients = [
        ChatClient(n, room, [first.ws_url, second.ws_url] if n <= 3 else [second.ws_url])
        for n in range(1, 6)
    ]
    for client in clients:
        await client.start()

    async def talk(client: ChatClient) -> None:
        for number in range(20):
            await client.say(f"{client.client_id}:{number}", f"c{client.client_id}-{number}")
            await asyncio.sleep(0.02)

    talking = asyncio.gather(*(talk(client) for client in clients))
    await asyncio.sleep(0.3)  # under way
    first.process.send_signal(signal.SIGTERM)  # a deploy: its clients get 1012
    await talking
    expected = {f"{c}:{n}" for c in range(1, 6) for n in range(20)}
    for client in clients:
        await wait_until_async(lambda c=client: set(c.said()) >= expected, 15, "all delivered")
    await asyncio.sleep(0.3)  # time for a duplicate, were there one
    for client in clients:
        assert sorted(client.said()) == sorted(expected)  # each message, exactly once
        assert client.duplicates == 0
        assert client.gaps == 0
        offsets = [event["offset"] for event in client.events]
        assert offsets == sorted(offsets)  # in the room's order
        if client.client_id <= 3:  # moved to the second process, and resumed there
            assert any(sync["recovered"] for sync in client.syncs[1:])
    for client in clients:
        await client.stop()


async def test_redis_restarting_empty_loses_no_message_and_presence_stays_true(
    two_processes: list[LiveServer], redis_server: RedisServer
) -> None:
    first, second = two_processes
    room = "outage"

    alice = ChatClient(1, room, [first.ws_url])
    carol = ChatClient(3, room, [first.ws_url])
    bob = ChatClient(2, room, [second.ws_url])
    everyone = [alice, bob, carol]
    for client in everyone:
        await client.start()
    await wait_until_async(
        lambda: all(c.presences and c.presences[-1]["online"] == [1, 2, 3] for c in everyone),
        10,
        "everyone sees everyone",
    )
    watched_from = {id(c): len(c.presences) for c in everyone}
    await alice.say("before", "a-1")

    redis_server.stop()
    await asyncio.sleep(1.5)  # the processes notice
    during = asyncio.gather(alice.say("during", "a-2"), bob.say("also during", "b-1"))
    await asyncio.sleep(1.0)
    assert any(e["code"] == "room_unavailable" for e in alice.errors)  # told, not lied to
    redis_server.start()  # empty: its history is gone
    returned_at = time.monotonic()
    await during
    for client in everyone:
        await wait_until_async(
            lambda c=client: {"during", "also during"} <= set(c.said()), 15, "re-sent ones"
        )
        # The epoch changed, and each was told that the history was lost.
        assert any(s["reason"] == "epoch_changed" for s in client.syncs)
        assert client.said().count("during") == 1
        assert client.said().count("before") == 1
    for client in everyone:
        await wait_until_async(
            lambda c=client: c.presences[-1]["complete"] and c.presences[-1]["online"] == [1, 2, 3],
            10,
            "presence complete again",
        )
    # Complete once each process reconnected (backoff capped at 5 s) and had its presence
    # lifetime (10 s) to re-register: until then the lists say they may be partial.
    assert time.monotonic() - returned_at < 20
    for client in everyone:
        # Never a list without the members that stayed connected all along: their own
        # process always knows of them, and lists from elsewhere come back whole.
        for presence in client.presences[watched_from[id(client)] :]:
            local = {1, 3} if client is not bob else {2}
            assert local <= set(presence["online"]), (client.client_id, client.presences)
    for client in everyone:  # only now: a departure changes the others' lists, truly
        await client.stop()


async def test_the_clients_of_a_killed_process_are_announced_as_left_once(
    two_processes: list[LiveServer],
) -> None:
    victim, survivor = two_processes
    room = "killed"

    watcher = ChatClient(10, room, [survivor.ws_url])
    doomed = ChatClient(11, room, [victim.ws_url])
    await watcher.start()
    await doomed.start()
    with (
        connect(f"{survivor.ws_url}/ws/20?room={room}") as guide_watcher,
        connect(f"{victim.ws_url}/ws/21?room={room}") as _guide_doomed,
    ):
        await wait_until_async(
            lambda: watcher.presences and watcher.presences[-1]["online"] == [10, 11, 20, 21],
            10,
            "all four online",
        )
        doomed.stopped = True  # it will not reconnect: it was on the dead process
        victim.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        left = {"Client #11 left the chat", "Client #21 left the chat"}
        heard: list[str] = []
        while not left <= set(heard):
            heard.append(str(await asyncio.to_thread(guide_watcher.recv, 25)))
        elapsed = time.monotonic() - killed_at
        assert elapsed < 20, f"announced after {elapsed:.1f} s"
        await asyncio.sleep(4)  # a second reaper round: nothing announced twice
        lefts = [e["client_id"] for e in watcher.events if e["type"] == "left"]
        assert sorted(lefts) == [11, 21]
        assert watcher.presences[-1]["online"] == [10, 20]
    await watcher.stop()


async def test_a_client_that_stops_reading_is_cut_off_and_recovers_later(tmp_path: Path) -> None:
    # A history big enough to hold all it will miss (400 messages of 16 KB).
    settings = Settings(
        frontend_dir=tmp_path, chat_outbox_limit=16, room_history_bytes=16 * 1024 * 1024
    )
    with serve_in_thread(settings) as server:
        room = "slow"
        stalled = ChatClient(666, room, [server.ws_url], receive_buffer=4096)
        talker = ChatClient(1, room, [server.ws_url])
        listener = ChatClient(2, room, [server.ws_url])
        for client in (stalled, talker, listener):
            await client.start()
        # It stops reading: the kernel's buffers fill (some 4 MB here), then its outbox.
        stalled.paused = True
        text = "x" * 16_000  # within the 16,384 characters a message may have
        started = time.monotonic()
        for number in range(400):
            await talker.say(f"{number} {text}", f"t-{number}")
        # The others were not slowed: everything reached the listener meanwhile.
        await wait_until_async(lambda: len(listener.said()) == 400, 10, "the listener has all")
        await wait_until_async(
            lambda: "took no close frame: connection aborted" in server.log(),
            10,
            "stalled one cut off",
        )
        assert time.monotonic() - started < 20
        stalled.paused = False  # it reads again, reconnects, resumes from its position
        await wait_until_async(lambda: len(stalled.said()) == 400, 15, "stalled one recovered")
        assert stalled.said() == [f"{n} {text}" for n in range(400)]
        assert stalled.duplicates == 0
        assert any(sync["recovered"] for sync in stalled.syncs[1:])
        for client in (stalled, talker, listener):
            await client.stop()
        assert "/ws/666: a subscriber of 'chat:slow' did not keep up" in server.log()


async def test_guide_clients_across_two_processes_hear_everything_through_a_redis_restart(
    two_processes: list[LiveServer], redis_server: RedisServer
) -> None:
    """The guide's plain clients cannot be told to send again: what they say while Redis is
    away is kept by their process and placed once it returns, so every one of them hears
    every message, once and in each sender's order, whichever process each is on. The JSON
    members connected throughout get the whole new epoch, and no complete presence list
    ever leaves out someone connected."""
    first, second = two_processes
    room = "guide-outage"
    senders = {1: first, 2: first, 3: second, 4: second}

    watchers = [ChatClient(10, room, [first.ws_url]), ChatClient(20, room, [second.ws_url])]
    for watcher in watchers:
        await watcher.start()
    guides = {
        number: await websockets_connect(f"{server.ws_url}/ws/{number}?room={room}")
        for number, server in senders.items()
    }
    everyone = {1, 2, 3, 4, 10, 20}
    await wait_until_async(
        lambda: all(w.presences and set(w.presences[-1]["online"]) == everyone for w in watchers),
        10,
        "everyone online",
    )
    heard: dict[int, list[str]] = {number: [] for number in guides}
    said: dict[int, list[str]] = {number: [] for number in guides}

    async def listen(number: int) -> None:
        async for line in guides[number]:
            heard[number].append(str(line))

    async def talk(number: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        count = 0
        while loop.time() < until:
            text = f"{number}:{count}"
            await guides[number].send(text)
            said[number].append(text)
            count += 1
            await asyncio.sleep(0.04)

    listening = [asyncio.create_task(listen(number)) for number in guides]
    talking = asyncio.gather(*(talk(number, 7.0) for number in guides))
    await asyncio.sleep(1.0)
    presences_from = [len(w.presences) for w in watchers]
    redis_server.stop()
    await asyncio.sleep(3.0)
    redis_server.start()  # empty: the history is gone, the processes come back one by one
    await talking
    expected = {f"Client #{n} says: {text}" for n in said for text in said[n]}
    for number in guides:
        try:
            await wait_until_async(
                lambda n=number: expected <= set(heard[n]), 30, f"guide #{number} heard all"
            )
        except AssertionError:
            missing = sorted(expected - set(heard[number]))
            raise AssertionError(
                f"#{number} missed {len(missing)}: {missing[:5]}…{missing[-5:]}"
            ) from None
    await asyncio.sleep(0.5)  # time for a duplicate, were there one
    for number in guides:
        lines = [line for line in heard[number] if " says: " in line]
        assert len(lines) == len(set(lines)), f"#{number} heard a message twice"
        for sender in said:  # each sender's messages in the order it sent them
            mine = [
                line.split(": ", 1)[1] for line in lines if line.startswith(f"Client #{sender} ")
            ]
            assert mine == said[sender], (number, sender)
    all_texts = {text for texts in said.values() for text in texts}
    for watcher in watchers:
        await wait_until_async(
            lambda w=watcher: all_texts <= set(w.said()), 15, "the watcher has the new epoch"
        )
        assert len(watcher.said()) == len(set(watcher.said())), "a watcher got a repeat"
        for sender, texts in said.items():  # and each sender's in the order it sent them
            theirs = set(texts)
            assert [text for text in watcher.said() if text in theirs] == texts, sender
        assert any(s["reason"] == "epoch_changed" for s in watcher.syncs)
    for watcher, start in zip(watchers, presences_from, strict=True):
        for presence in watcher.presences[start:]:
            if presence["complete"]:
                assert set(presence["online"]) >= everyone, presence
    for task in listening:
        task.cancel()
    for guide in guides.values():
        await guide.close()
    for watcher in watchers:
        await watcher.stop()
