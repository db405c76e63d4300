"""``WS /ws/realtime`` over real sockets: who it speaks to, following and publishing to a
channel, refusals per request that leave the connection open (and are counted), and the limits
per connection (channels, bytes)."""

import asyncio
import json
import time
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.settings import Settings
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import JSON_V1, RealtimeClient
from tests.raw_client import closed_with
from tests.servers import InProcessServer, ThreadServers, serve_in_thread

OPERATOR_TOKEN = "operator-token-for-the-channel-tests"


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(
        metrics_token=SecretStr(OPERATOR_TOKEN), channels_per_connection=3
    )


def refusals(server: InProcessServer, reason: str) -> float:
    """``realtime_channel_refusals_total{reason=...}`` as /metrics says it."""
    response = httpx2.get(
        f"{server.http_url}/metrics", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "realtime_channel_refusals_total" and sample.labels == {
                "reason": reason
            }:
                return sample.value
    return 0.0


# --- who it speaks to -------------------------------------------------------------------------


def test_a_guide_client_is_refused_at_the_handshake(server: InProcessServer) -> None:
    # Breaks if the endpoint accepted a client that negotiated nothing (it could not read a
    # single message of the endpoint's).
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws_url}/ws/realtime").__enter__()
    assert refused.value.response.status_code == 403


def test_a_text_client_is_told_why_in_the_close_frame(server: InProcessServer) -> None:
    # Breaks if realtime.text.v1 were refused without its reason, or served.
    code, reason = closed_with(f"{server.ws_url}/ws/realtime")
    assert code == 1008
    assert "realtime.json.v1" in reason


async def test_subscribe_and_publish_and_a_guide_client_in_the_same_room(
    server: InProcessServer,
) -> None:
    # Breaks if the multiplexed endpoint and the guide's /ws/{client_id} followed different
    # channels, or if a subscribe missed any of its answers (subscribed, history, sync,
    # presence), or a publish its ack or its event.
    room = "general"

    with connect(f"{server.ws_url}/ws/8?room={room}") as guide:
        guide.send("before")  # history for the subscriber
        assert guide.recv(timeout=5) == "You wrote: before"
        assert guide.recv(timeout=5) == "Client #8 says: before"  # the guide's broadcast
        client = RealtimeClient([server.ws_url])
        await client.start()
        answer = await client.subscribe("chat:general", member="7")
        assert answer == {
            "type": "subscribed",
            "reply_to": answer["reply_to"],
            "channel": "chat:general",
        }
        await wait_until_async(lambda: client.last_sync("chat:general"), 5, "a sync")
        assert "before" in client.texts("chat:general")  # history, before the sync
        sync = client.last_sync("chat:general")
        assert sync is not None
        assert sync["recovered"] is False
        assert sync["reason"] == "first_join"
        await wait_until_async(
            lambda: any(
                p["online"] == ["7", "8"] for p in client.presences.get("chat:general", [])
            ),
            5,
            "presence with both members",
        )
        ack = await client.publish("chat:general", {"text": "hello guide"}, "hi-1")
        assert ack["type"] == "ack"
        assert ack["channel"] == "chat:general"
        assert isinstance(ack["offset"], int)
        await wait_until_async(
            lambda: "hello guide" in client.texts("chat:general"), 5, "own event"
        )
        event = next(
            e for e in client.published("chat:general") if e["data"]["text"] == "hello guide"
        )
        assert event["sender"] == "7"
        assert event["message_id"] == "hi-1"
        assert event["data"] == {"text": "hello guide"}
        assert (event["epoch"], event["offset"]) == (ack["epoch"], ack["offset"])
        # The guide's client hears it in the guide's words, and is heard back.
        assert await asyncio.to_thread(guide.recv, 5) == "Client #7 says: hello guide"
        guide.send("hello page")
        assert guide.recv(timeout=5) == "You wrote: hello page"
        assert guide.recv(timeout=5) == "Client #8 says: hello page"
        await wait_until_async(lambda: "hello page" in client.texts("chat:general"), 5, "guide's")
        said = client.published("chat:general")[-1]
        assert said["sender"] == "8"
        assert client.duplicates == 0
        assert client.gaps == 0
        await client.stop()


# --- refusals per request; the connection stays ---------------------------------------------


async def test_each_refusal_names_its_request_and_the_connection_stays(
    server: InProcessServer,
) -> None:
    # Breaks if a refusal closed the connection, lacked its reply_to or its code, if a user
    # could follow or publish to another's channel, or if a refusal went uncounted.

    async def still_works(client: RealtimeClient) -> None:
        pong = await client.ping()
        assert pong["type"] == "pong"

    # alice, signed in by her session cookie (any value is a user's without a secret).
    alice = RealtimeClient([server.ws_url], headers={"Cookie": "session=alice"})
    await alice.start()

    unknown = await alice.subscribe("nothing:here")
    assert unknown["type"] == "error"
    assert unknown["code"] == "unknown_channel"
    await still_works(alice)

    forbidden_before = refusals(server, "forbidden")
    forbidden = await alice.subscribe("user:bob")
    assert (forbidden["type"], forbidden["code"]) == ("error", "forbidden")
    assert forbidden["reply_to"].startswith("s-")
    assert "user:bob" not in alice.followed
    assert refusals(server, "forbidden") == forbidden_before + 1
    await still_works(alice)

    publish = await alice.publish("user:bob", {"sender": "alice", "text": "sneaky"})
    assert (publish["type"], publish["code"]) == ("error", "forbidden")
    assert refusals(server, "forbidden") == forbidden_before + 2
    await still_works(alice)

    not_member = await alice.publish("chat:refusals", {"text": "hi"})
    assert (not_member["type"], not_member["code"]) == ("error", "not_subscribed")
    await still_works(alice)

    assert (await alice.subscribe("chat:refusals", member="5"))["type"] == "subscribed"
    bad = await alice.publish("chat:refusals", {"txt": "typo"})
    assert (bad["type"], bad["code"]) == ("error", "invalid_payload")
    assert "text" in bad["detail"]
    assert "txt" in bad["detail"]
    await still_works(alice)

    # On the chat a member is a client number.
    no_member = await alice.subscribe("chat:refusals-2", member="not-a-number")
    assert (no_member["type"], no_member["code"]) == ("error", "invalid_message")

    bad_since = await alice.subscribe("announcements", since="nonsense")
    assert (bad_since["type"], bad_since["code"]) == ("error", "invalid_message")

    # After all of that, the same connection still follows and publishes.
    assert (await alice.subscribe("announcements"))["type"] == "subscribed"
    ack = await alice.publish("chat:refusals", {"text": "still here"})
    assert ack["type"] == "ack"
    await wait_until_async(lambda: "still here" in alice.texts("chat:refusals"), 5, "delivered")
    assert len(alice.connection_ids) == 1  # never reconnected
    await alice.stop()


async def test_a_user_follows_their_own_channel_and_nobody_publishes_to_it_over_a_socket(
    server: InProcessServer,
) -> None:
    # Breaks if owner("subject") let the owner down, or let a socket publish to user:{subject}.
    bob = RealtimeClient([server.ws_url], headers={"Authorization": "Bearer bob"})
    await bob.start()
    assert (await bob.subscribe("user:bob"))["type"] == "subscribed"
    own = await bob.publish("user:bob", {"sender": "bob", "text": "to myself"})
    assert (own["type"], own["code"]) == ("error", "forbidden")
    guest = RealtimeClient([server.ws_url])
    await guest.start()
    assert (await guest.subscribe("user:bob"))["code"] == "forbidden"
    assert (await guest.subscribe("announcements"))["type"] == "subscribed"
    await bob.stop()
    await guest.stop()


def test_malformed_messages_are_typed_errors_and_the_connection_stays(
    server: InProcessServer,
) -> None:
    # Breaks if a malformed message closed the connection instead of being answered.
    with connect(f"{server.ws_url}/ws/realtime", subprotocols=JSON_V1) as websocket:
        assert json.loads(websocket.recv(timeout=5))["type"] == "welcome"
        websocket.send("not json")
        assert json.loads(websocket.recv(timeout=5))["code"] == "invalid_json"
        websocket.send(json.dumps({"type": "subscribe", "id": "x1"}))
        error = json.loads(websocket.recv(timeout=5))
        assert (error["code"], error["reply_to"]) == ("invalid_message", "x1")
        assert "channel" in error["detail"]
        websocket.send(json.dumps({"type": "text", "id": "t1", "text": "hi"}))
        assert json.loads(websocket.recv(timeout=5))["code"] == "unknown_type"
        websocket.send(json.dumps({"type": "ping", "id": "p1", "sent_at": 5}))
        assert json.loads(websocket.recv(timeout=5)) == {"type": "pong", "id": "p1", "sent_at": 5}


def test_a_message_nested_too_deep_is_an_error_and_the_connection_stays(
    server: InProcessServer,
) -> None:
    # Breaks if a message nested deeper than the JSON parsers go (within the 64 KiB a message
    # may have) crashed the connection. Fails while conversation/messages.py _id_of, looking
    # for the id of the message pydantic refused, re-parses it with json.loads, whose
    # RecursionError nobody catches: an ASGI exception, no close frame, a traceback per try.
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    with connect(f"{server.ws_url}/ws/realtime", subprotocols=JSON_V1) as websocket:
        assert json.loads(websocket.recv(timeout=5))["type"] == "welcome"
        websocket.send(f'{{"type":"publish","id":"d1","channel":"announcements","data":{deep}}}')
        error = json.loads(websocket.recv(timeout=5))
        assert (error["type"], error["code"]) == ("error", "invalid_json")
        websocket.send(json.dumps({"type": "ping", "id": "p2", "sent_at": 6}))
        assert json.loads(websocket.recv(timeout=5))["type"] == "pong"


# --- limits per connection --------------------------------------------------------------------


async def test_a_connection_follows_at_most_its_channels(server: InProcessServer) -> None:
    # Breaks if APP_CHANNELS_PER_CONNECTION (3 here) were not enforced, if unsubscribing did
    # not free a place, or if following a channel again counted as one more.
    client = RealtimeClient([server.ws_url])
    await client.start()
    for room in ("a", "b", "c"):
        assert (await client.subscribe(f"chat:limit-{room}", member="1"))["type"] == ("subscribed")
    again = await client.subscribe("chat:limit-a", member="1")
    assert again["type"] == "subscribed"  # followed afresh, not one more
    fourth = await client.subscribe("chat:limit-d", member="1")
    assert (fourth["type"], fourth["code"]) == ("error", "too_many_channels")
    assert "3" in fourth["detail"]
    assert (await client.unsubscribe("chat:limit-b"))["type"] == "unsubscribed"
    assert (await client.subscribe("chat:limit-d", member="1"))["type"] == "subscribed"
    # An unsubscribed channel sends nothing more.
    other = RealtimeClient([server.ws_url])
    await other.start()
    assert (await other.subscribe("chat:limit-b", member="2"))["type"] == "subscribed"
    assert (await other.publish("chat:limit-b", {"text": "anyone?"}))["type"] == "ack"
    await wait_until_async(lambda: "anyone?" in other.texts("chat:limit-b"), 5, "delivered")
    await asyncio.sleep(0.3)
    assert "anyone?" not in client.texts("chat:limit-b")
    await client.stop()
    await other.stop()


async def test_a_connection_that_stops_reading_is_dropped_and_the_others_get_everything(
    tmp_path: Path,
) -> None:
    # Breaks if a stalled subscriber held up the channel's fan-out (the listener would lag),
    # if it were never dropped (its outbox bounded by APP_CHAT_OUTBOX_BYTES), or if it could
    # not resume from its position afterwards.
    settings = Settings(
        frontend_dir=tmp_path,
        chat_outbox_bytes=64 * 1024,
        room_history_bytes=16 * 1024 * 1024,
        room_history_events=1000,
    )
    with serve_in_thread(settings) as running:
        channel = "chat:busy"
        stalled = RealtimeClient([running.ws_url], receive_buffer=4096)
        talker = RealtimeClient([running.ws_url])
        listener = RealtimeClient([running.ws_url])
        for number, client in enumerate((stalled, talker, listener), start=1):
            await client.start()
            assert (await client.subscribe(channel, member=str(number)))["type"] == ("subscribed")
            # A second channel on the stalled connection: it goes with the connection.
            assert (await client.subscribe("announcements"))["type"] == "subscribed"
        stalled.reading.clear()  # it stops reading: the kernel's buffers fill, then its outbox
        text = "x" * 16_000
        started = time.monotonic()
        for number in range(300):
            ack = await talker.publish(channel, {"text": f"{number} {text}"}, f"t-{number}")
            assert ack["type"] == "ack"
        await wait_until_async(lambda: len(listener.texts(channel)) == 300, 10, "listener has all")
        await wait_until_async(
            lambda: "did not keep up" in running.log(), 10, "the stalled one dropped"
        )
        assert time.monotonic() - started < 30
        stalled.reading.set()  # it reads again, reconnects, resumes from its position
        await wait_until_async(lambda: len(stalled.closes) >= 1, 10, "its connection ended")
        code = stalled.closes[0][0]
        assert code in (1013, 1006), stalled.closes  # closed as too slow, or cut off
        await wait_until_async(lambda: len(stalled.texts(channel)) == 300, 15, "it recovered")
        assert stalled.texts(channel) == [f"{n} {text}" for n in range(300)]
        assert stalled.duplicates == 0
        assert stalled.gaps == 0
        assert any(s["recovered"] for s in stalled.syncs[channel][1:])
        assert "announcements" in stalled.followed
        assert len(stalled.syncs["announcements"]) >= 2  # followed again too
        assert talker.closes == []
        assert listener.closes == []
        for client in (stalled, talker, listener):
            await client.stop()
        assert "/ws/realtime: a subscriber of 'chat:busy' did not keep up" in running.log()


async def test_a_publish_sent_again_with_its_id_and_sender_key_is_placed_once(
    server: InProcessServer,
) -> None:
    # Breaks if a publish resent after a reconnect (its ack lost) were placed twice, or if
    # another connection's publish with the same id were taken for it (dedup is per sender).
    channel = "chat:dedup"
    sender = RealtimeClient([server.ws_url])
    await sender.start()
    assert (await sender.subscribe(channel, member="1"))["type"] == "subscribed"
    first = await sender.publish(channel, {"text": "once"}, "m-1")
    await sender.go_away()
    await sender.come_back()  # with its sender_key: followed again as member 1
    assert len(sender.connection_ids) == 2
    again = await sender.publish(channel, {"text": "once"}, "m-1")
    assert (again["type"], again["epoch"], again["offset"]) == (
        "ack",
        first["epoch"],
        first["offset"],
    )
    other = RealtimeClient([server.ws_url])
    await other.start()
    assert (await other.subscribe(channel, member="2"))["type"] == "subscribed"
    theirs = await other.publish(channel, {"text": "mine"}, "m-1")
    assert theirs["offset"] > first["offset"]
    await wait_until_async(lambda: "mine" in sender.texts(channel), 5, "the other's")
    assert sender.texts(channel).count("once") == 1
    assert sender.duplicates == 0
    await sender.stop()
    await other.stop()


async def test_subscribing_again_starts_the_channel_afresh_from_the_since_given(
    server: InProcessServer,
) -> None:
    # Breaks if a second subscribe on the same connection were ignored, or did not replay
    # from the position it gives.
    channel = "chat:afresh"
    client = RealtimeClient([server.ws_url])
    await client.start()
    assert (await client.subscribe(channel, member="4"))["type"] == "subscribed"
    acks = [await client.publish(channel, {"text": f"line {n}"}) for n in range(3)]
    await wait_until_async(lambda: len(client.texts(channel)) == 3, 5, "three lines")
    since = f"{acks[0]['epoch']}:{acks[0]['offset']}"
    client.positions.pop(channel)  # as a page that lost its place would
    assert (await client.subscribe(channel, member="4", since=since))["type"] == "subscribed"
    await wait_until_async(lambda: len(client.syncs[channel]) == 2, 5, "a second sync")
    sync = client.syncs[channel][-1]
    assert sync["recovered"] is True
    assert client.texts(channel)[-2:] == ["line 1", "line 2"]
    await client.stop()


async def test_subscribing_again_is_not_leaving(server: InProcessServer) -> None:
    # protocol.md: a member is "joined with its first connection and left with its last".
    # Breaks if a page that follows its room again on the same connection (to resume from
    # another position) were announced to the room as gone and back: the guide's clients
    # would read "Client #4 left the chat" while it never left.
    # Fails today: routes/realtime.py subscribe() unsubscribes first when already following
    # (`if already: await self.connection.unsubscribe(...)`), and that subscription was the
    # member's last, so hub.unsubscribe announces "left", then the new one "joined".
    channel = "chat:stays"
    with connect(f"{server.ws_url}/ws/9?room=stays") as guide:
        client = RealtimeClient([server.ws_url])
        await client.start()
        assert (await client.subscribe(channel, member="4"))["type"] == "subscribed"
        ack = await client.publish(channel, {"text": "first"})
        assert await asyncio.to_thread(guide.recv, 5) == "Client #4 says: first"
        since = f"{ack['epoch']}:{ack['offset']}"
        again = await client.subscribe(channel, member="4", since=since)
        assert again["type"] == "subscribed"
        await client.publish(channel, {"text": "second"})
        heard = await asyncio.to_thread(guide.recv, 5)
        assert heard == "Client #4 says: second", heard
        kinds = [e["kind"] for e in client.events[channel] if e["offset"] > ack["offset"]]
        assert kinds == ["published"], kinds
        await client.stop()


async def test_a_member_that_only_looks_like_a_number_is_refused(server: InProcessServer) -> None:
    # Breaks if a chat member had to be an ASCII client number only in part. Fails while
    # features/chat/channel.py is_client_number takes str.isdigit(): "²" passes it and then
    # int("²") raises inside the subscribe, which kills the connection (no close frame), and
    # "١٢" (Arabic-Indic digits) is taken, shown to the chat's JSON members as client 12.
    client = RealtimeClient([server.ws_url])
    await client.start()
    for member in ("²", "١٢", "-1", "1.5", "9" * 17):
        answer = await client.subscribe("chat:numbers", member=member)
        assert (answer["type"], answer["code"]) == ("error", "invalid_message"), member
    assert (await client.ping())["type"] == "pong"
    assert (await client.subscribe("chat:numbers", member="12"))["type"] == "subscribed"
    assert client.closes == []
    await client.stop()
