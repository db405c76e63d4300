"""What redis-py's asyncio RedisCluster does with hash tags, scripts and sharded pub/sub, and when
a shard's master is killed, restarted or its slot moved (docs/notes/redis-topologies.md)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, ClusterPubSub, RedisCluster
from redis.exceptions import (
    ClusterDownError,
    ConnectionError,
    CrossSlotTransactionError,
    MovedError,
    RedisClusterException,
    ResponseError,
    TimeoutError,
)

from testkit.redis_topologies import RedisClusterSetup

ROOM = "room:{general}"
CHANNEL = f"{ROOM}:events"
BOUND = 15.0  # s for anything to settle after a fault; a few seconds measured

# The shape of the broker's placement script: keys of one room, one slot, the event published
# on the room's shard channel (SPUBLISH, not PUBLISH, which a cluster sends to every node).
PLACE = """
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('XADD', KEYS[2], offset .. '-1', 'e', ARGV[1])
redis.call('SPUBLISH', KEYS[3], ARGV[1])
return offset
"""


def client_of(setup: RedisClusterSetup) -> RedisCluster:
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in setup.seeds],
        socket_timeout=1,
        socket_connect_timeout=1,
    )


@pytest.fixture
async def client(cluster: RedisClusterSetup) -> AsyncIterator[RedisCluster]:
    redis = client_of(cluster)
    await redis.initialize()
    yield redis
    await redis.aclose()


def node_of(redis: RedisCluster, key: str) -> ClusterNode:
    node = redis.get_node_from_key(key)
    assert node is not None
    return node


def channel_per_master(redis: RedisCluster, count: int = 3) -> list[str]:
    """Room channels whose slots are served by ``count`` different masters."""
    by_node: dict[str, str] = {}
    number = 0
    while len(by_node) < count:
        channel = f"room:{{r{number}}}:events"
        by_node.setdefault(node_of(redis, channel).name, channel)
        number += 1
    return list(by_node.values())


async def next_data(pubsub: ClusterPubSub, within: float = 5) -> Any:
    """The next smessage's data; get_sharded_message without a wait, polled (see
    test_a_blocking_get_sharded_message_waits_on_each_shard_in_turn for why)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        message = await pubsub.get_sharded_message(ignore_subscribe_messages=True)
        if message is not None and message["type"] == "smessage":
            return message["data"]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no message within {within} s")


async def confirmation(pubsub: ClusterPubSub) -> str:
    """The type of the next message, which should be a (un)subscribe confirmation."""
    message = await pubsub.get_sharded_message(timeout=1)
    assert message is not None
    return str(message["type"])


# --- one healthy cluster ------------------------------------------------------------------------


async def test_keys_of_one_hash_tag_share_a_slot_and_its_node(
    cluster: RedisClusterSetup, client: RedisCluster
) -> None:
    keys = [f"{ROOM}:meta", f"{ROOM}:log", f"{ROOM}:presence", f"{ROOM}:msg:7:m1", CHANNEL]
    slots = {client.keyslot(key) for key in keys}
    assert slots == {cluster.slot_of(ROOM)}  # the server hashes only the tag, "general"
    assert client.keyslot("room:{other}:meta") not in slots
    assert node_of(client, keys[0]).port == cluster.node_for_key(keys[0]).port


async def test_a_script_over_the_keys_of_one_tag_runs_on_their_node(
    client: RedisCluster,
) -> None:
    place = client.register_script(PLACE)
    pubsub = client.pubsub()
    try:
        await pubsub.ssubscribe(CHANNEL)
        offset = await place(keys=[f"{ROOM}:meta", f"{ROOM}:log", CHANNEL], args=["hello"])
        assert offset == 1
        assert await next_data(pubsub) == b"hello"  # SPUBLISH from a script is delivered
        entries = await client.xrange(f"{ROOM}:log")
        assert entries is not None
        assert [fields for _, fields in entries] == [{b"e": b"hello"}]
    finally:
        await pubsub.aclose()
        await client.delete(f"{ROOM}:meta", f"{ROOM}:log")


async def test_scripts_over_several_slots_are_refused(client: RedisCluster) -> None:
    # Declared keys of two slots: redis-py refuses before sending anything.
    with pytest.raises(RedisClusterException, match="all keys must map to the same key slot"):
        await client.eval("return 1", 2, "room:{a}:meta", "room:{b}:meta")
    # A key the script reaches without declaring it: the node refuses it if another node
    # serves it (and would allow it by luck if the same node did): pass every key in KEYS.
    here, elsewhere = channel_per_master(client, 2)
    with pytest.raises(ResponseError, match="non local key"):
        await client.eval("return redis.call('GET', ARGV[1])", 1, here, elsewhere)
    neighbour = next(  # another slot that happens to be on the same node: allowed, for now
        key
        for key in (f"room:{{n{number}}}:meta" for number in range(10_000))
        if client.keyslot(key) != client.keyslot(here)
        and node_of(client, key).name == node_of(client, here).name
    )
    assert await client.eval("return redis.call('GET', ARGV[1])", 1, here, neighbour) is None
    # WAIT cannot acknowledge a script's writes from inside it.
    with pytest.raises(ResponseError, match="not allowed from script"):
        await client.eval("return redis.call('WAIT', 0, 0)", 1, here)


async def test_a_transaction_over_one_tag_runs_and_one_over_two_is_refused(
    client: RedisCluster,
) -> None:
    # The broker's replay is a MULTI over one room's keys: fine, they share the slot.
    async with client.pipeline(transaction=True) as pipe:
        pipe.hsetnx(f"{ROOM}:meta", "epoch", "e1")
        pipe.hmget(f"{ROOM}:meta", "epoch", "offset")
        pipe.xrevrange(f"{ROOM}:log", "+", "-", count=5)
        assert await pipe.execute() == [1, [b"e1", None], []]
    async with client.pipeline(transaction=True) as pipe:
        pipe.set("room:{a}:meta", 1)
        pipe.set("room:{b}:meta", 1)
        with pytest.raises(CrossSlotTransactionError):
            await pipe.execute()
    # Without a transaction, redis-py splits a pipeline by node.
    async with client.pipeline(transaction=False) as pipe:
        pipe.set("room:{a}:meta", 1)
        pipe.set("room:{b}:meta", 1)
        assert await pipe.execute() == [True, True]
    await client.delete(f"{ROOM}:meta", "room:{a}:meta", "room:{b}:meta")


async def test_sharded_pubsub_subscribes_on_each_channel_s_shard(client: RedisCluster) -> None:
    channels = channel_per_master(client)
    pubsub = client.pubsub()
    try:
        await pubsub.ssubscribe(*channels)
        assert len(pubsub.node_pubsub_mapping) == 3  # a connection per shard, made by redis-py
        for channel in channels:
            assert await client.spublish(channel, channel) == 1  # that shard's subscribers
            assert await next_data(pubsub) == channel.encode()
        assert await client.publish(channels[0], "classic") == 0  # another namespace
        with pytest.raises(RuntimeError, match="pubsub connection not set"):
            await anext(aiter(pubsub.listen()))  # listen() reads only classic subscriptions
    finally:
        await pubsub.aclose()


async def test_a_blocking_get_sharded_message_waits_on_each_shard_in_turn(
    client: RedisCluster,
) -> None:
    """get_sharded_message(timeout=t) asks the per-shard connections one after another, each
    for up to t: a message on one shard waits while the others are asked."""
    quiet, busy = channel_per_master(client, 2)
    pubsub = client.pubsub()
    try:
        await pubsub.ssubscribe(quiet, busy)
        while await pubsub.get_sharded_message(timeout=0.1) is not None:
            pass  # the two ssubscribe confirmations
        await client.spublish(busy, "first")
        first = await pubsub.get_sharded_message(timeout=1.0)
        assert first is not None
        assert first["data"] == b"first"
        await client.spublish(busy, "second")
        sent = time.monotonic()
        second = await pubsub.get_sharded_message(timeout=1.0)
        waited = time.monotonic() - sent
        assert second is not None
        assert second["data"] == b"second"
        assert waited > 0.8, f"{waited:.2f} s: no longer waits on the quiet shard first?"
    finally:
        await pubsub.aclose()


# --- faults -------------------------------------------------------------------------------------


async def test_commands_reach_the_new_master_after_a_shard_s_master_is_killed(
    cluster_with_replicas: RedisClusterSetup,
) -> None:
    redis = client_of(cluster_with_replicas)
    owner = cluster_with_replicas.node_for_key(CHANNEL)
    # WAIT must follow the write on the same connection to the slot's master: RedisCluster
    # sends it elsewhere (its default node, on another pooled connection), so a plain client
    # to that master, in one pipeline.
    direct = Redis(host=owner.address[0], port=owner.port)
    try:
        async with direct.pipeline(transaction=False) as pipe:
            pipe.set(f"{ROOM}:meta", "acknowledged")
            pipe.wait(1, 1000)
            _, replicas = await pipe.execute()
        assert replicas == 1
        await redis.initialize()
        cluster_with_replicas.kill_master_of(CHANNEL)
        killed_at = time.monotonic()
        errors: list[type[BaseException]] = []
        while True:
            try:
                await redis.set(f"{ROOM}:after", "written")
                break
            except (ConnectionError, TimeoutError, ClusterDownError) as exc:
                errors.append(type(exc))
                assert time.monotonic() - killed_at < BOUND, errors
        outage = time.monotonic() - killed_at
        new = await asyncio.to_thread(cluster_with_replicas.wait_for_failover, CHANNEL)
        assert node_of(redis, CHANNEL).port == new.port
        assert await redis.get(f"{ROOM}:meta") == b"acknowledged"
        # Each failed call already retried inside redis-py (re-reading the slots each time).
        assert set(errors) <= {ConnectionError, TimeoutError, ClusterDownError}, errors
        print(f"commands failed for {outage:.1f} s: {len(errors)} errors")
    finally:
        await direct.aclose()
        await redis.aclose()


async def test_a_sharded_subscription_follows_a_failover_once_its_client_refreshes(
    cluster_with_replicas: RedisClusterSetup,
) -> None:
    """A client that only subscribes never learns of the failover by itself: its per-shard
    connection retries the dead master for ever. Refreshing the slots (any command through
    that client that fails over to them, or nodes_manager.initialize()) makes ClusterPubSub
    move the subscription to the new master."""
    publisher, subscriber = client_of(cluster_with_replicas), client_of(cluster_with_replicas)
    await subscriber.initialize()
    pubsub = subscriber.pubsub()
    try:
        await pubsub.ssubscribe(CHANNEL)
        assert await confirmation(pubsub) == "ssubscribe"
        old = cluster_with_replicas.kill_master_of(CHANNEL)
        new = await asyncio.to_thread(cluster_with_replicas.wait_for_failover, CHANNEL)
        stranded_until = time.monotonic() + 2  # the failover is over: still stranded
        while time.monotonic() < stranded_until:
            with pytest.raises(ConnectionError, match=f"connecting to 127.0.0.1:{old.port}"):
                await pubsub.get_sharded_message(timeout=0.1)
            await asyncio.sleep(0.2)
        await subscriber.nodes_manager.initialize()  # reconciles in a task of its own
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            try:  # the old shard's connection fails until the reconciliation drops it
                message = await pubsub.get_sharded_message(timeout=0.1)
            except ConnectionError:
                await asyncio.sleep(0.05)
                continue
            if message is not None and message["type"] == "ssubscribe":
                break
        else:
            raise AssertionError("not subscribed again")
        assert list(pubsub.node_pubsub_mapping) == [f"127.0.0.1:{new.port}"]
        assert await publisher.spublish(CHANNEL, "after") == 1
        assert await next_data(pubsub) == b"after"
    finally:
        await pubsub.aclose()
        await publisher.aclose()
        await subscriber.aclose()


async def test_a_sharded_subscription_comes_back_with_a_restarted_master(
    fresh_cluster: RedisClusterSetup,
) -> None:
    """Same address, same slots: the per-shard connection reconnects and subscribes again by
    itself (its on_connect callback), once the node answers and the cluster is ok."""
    redis = client_of(fresh_cluster)
    await redis.initialize()
    pubsub = redis.pubsub()
    try:
        await pubsub.ssubscribe(CHANNEL)
        assert await confirmation(pubsub) == "ssubscribe"
        owner = fresh_cluster.kill_master_of(CHANNEL)
        with pytest.raises(ConnectionError):
            await pubsub.get_sharded_message(timeout=0.1)
        fresh_cluster.restart(owner, wait=False)
        await asyncio.to_thread(fresh_cluster.wait_until_ok)
        deadline = time.monotonic() + BOUND
        received = None
        while received is None:
            assert time.monotonic() < deadline, "no message after the restart"
            try:
                await redis.spublish(CHANNEL, "back")
                message = await pubsub.get_sharded_message(
                    ignore_subscribe_messages=True, timeout=0.2
                )
            except (ConnectionError, TimeoutError, ClusterDownError):
                await asyncio.sleep(0.1)
                continue
            if message is not None:
                received = message["data"]
        assert received == b"back"
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def test_a_moved_slot_unsubscribes_its_subscribers_until_the_client_refreshes(
    fresh_cluster: RedisClusterSetup,
) -> None:
    """When a slot leaves a node, the node pushes ``sunsubscribe`` to the slot's subscribers;
    ClusterPubSub passes it on and keeps the channel in its books, but nothing is subscribed
    any more. Refreshing the slots moves the subscription to the slot's new node."""
    redis = client_of(fresh_cluster)
    await redis.initialize()
    pubsub = redis.pubsub()
    try:
        await pubsub.ssubscribe(CHANNEL)
        assert await confirmation(pubsub) == "ssubscribe"
        slot = fresh_cluster.slot_of(CHANNEL)
        source = fresh_cluster.node_for_key(CHANNEL)
        target = next(node for node in fresh_cluster.masters() if node is not source)
        await asyncio.to_thread(fresh_cluster.move_slot, slot, target)
        pushed = await pubsub.get_sharded_message(timeout=1)
        assert pushed is not None
        assert (pushed["type"], pushed["channel"]) == ("sunsubscribe", CHANNEL.encode())
        assert CHANNEL.encode() in pubsub.shard_channels  # still in redis-py's books
        # MOVED, followed: nobody there, unless redis-py's slot-cache listener (told of the
        # new slots by that MOVED) already resubscribed on the new node in the background.
        assert await redis.spublish(CHANNEL, "lost") in (0, 1)
        await redis.nodes_manager.initialize()
        deadline = time.monotonic() + BOUND
        moved = 0
        received = None
        while received != b"found":
            assert time.monotonic() < deadline, "not subscribed on the slot's new node"
            await redis.spublish(CHANNEL, "found")
            try:
                message = await pubsub.get_sharded_message(ignore_subscribe_messages=True)
            except MovedError:  # the old node's answer to the reconciliation's SUNSUBSCRIBE
                moved += 1
                continue
            if message is not None:
                received = message["data"]
            await asyncio.sleep(0.05)
        assert moved <= 1  # the old node may answer the reconciliation with MOVED, once
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def follow_shards(
    redis: RedisCluster,
    pubsub: ClusterPubSub,
    lock: asyncio.Lock,
    received: list[bytes],
    refreshes: list[str],
) -> None:
    """The consuming loop the notes recommend for ClusterPubSub: never block in
    get_sharded_message (poll it), and refresh the slots (which makes ClusterPubSub move
    every subscription to its slot's current master) whenever a shard's connection fails or a
    node unsubscribes us by itself. ``lock`` is also held around every ssubscribe: a poll
    while ssubscribe connects a new shard's connection raises RuntimeError."""
    while True:
        try:
            async with lock:
                message = await pubsub.get_sharded_message()
        except (ConnectionError, TimeoutError, MovedError) as exc:
            refreshes.append(type(exc).__name__)
            with contextlib.suppress(ConnectionError, TimeoutError, ClusterDownError):
                await redis.nodes_manager.initialize()
            await asyncio.sleep(0.2)
            continue
        if message is None:
            await asyncio.sleep(0.01)
        elif message["type"] == "smessage":
            received.append(message["data"])
        elif message["type"] == "sunsubscribe" and message["channel"] in pubsub.shard_channels:
            refreshes.append("sunsubscribe")  # the slot left that node: find where it went
            await redis.nodes_manager.initialize()


async def test_a_polling_consumer_that_refreshes_follows_a_failover_and_a_slot_move(
    cluster_with_replicas: RedisClusterSetup,
) -> None:
    publisher, subscriber = client_of(cluster_with_replicas), client_of(cluster_with_replicas)
    await subscriber.initialize()
    pubsub = subscriber.pubsub()
    received: list[bytes] = []
    refreshes: list[str] = []
    lock = asyncio.Lock()
    reader = asyncio.create_task(follow_shards(subscriber, pubsub, lock, received, refreshes))

    async def published_until_received(text: str) -> float:
        started = time.monotonic()
        while text.encode() not in received:
            assert time.monotonic() - started < BOUND, f"{text!r} never came ({refreshes})"
            with contextlib.suppress(ConnectionError, TimeoutError, ClusterDownError):
                await publisher.spublish(CHANNEL, text)
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    try:
        async with lock:
            await pubsub.ssubscribe(CHANNEL)
        await published_until_received("first")
        cluster_with_replicas.kill_master_of(CHANNEL)
        after_kill = await published_until_received("after the failover")
        assert "ConnectionError" in refreshes
        slot = cluster_with_replicas.slot_of(CHANNEL)
        owner = cluster_with_replicas.master_of_slot(slot)
        target = next(m for m in cluster_with_replicas.masters() if m is not owner)
        await asyncio.to_thread(cluster_with_replicas.move_slot, slot, target)
        after_move = await published_until_received("after the move")
        assert "sunsubscribe" in refreshes
        assert list(pubsub._shard_channel_to_node.values()) == [f"127.0.0.1:{target.port}"]
        print(f"delivered again {after_kill:.1f} s after the kill, {after_move:.1f} s after a move")
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await pubsub.aclose()
        await publisher.aclose()
        await subscriber.aclose()
