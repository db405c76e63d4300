"""What redis-py's asyncio Sentinel client does when the master is killed and a replica takes
over (docs/notes/redis-topologies.md has the findings)."""

import asyncio
import time

import pytest
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from testkit.redis_topologies import HOST, RedisSentinelSetup, ask, info

CHANNEL = "room:{general}:events"
OUTAGE_BOUND = 15.0  # s from the kill until a write reaches the new master; ~2-3 s measured


def sentinel_of(setup: RedisSentinelSetup) -> Sentinel:
    # socket_* options are also used for the connections to the Sentinels themselves
    # (sentinel_kwargs defaults to them): without a timeout, an unreachable Sentinel hangs.
    return Sentinel(  # type: ignore[no-untyped-call]
        setup.sentinel_addresses, socket_timeout=0.5, socket_connect_timeout=0.5
    )


async def test_master_for_follows_a_failover_and_keeps_acknowledged_writes(
    sentinel_setup: RedisSentinelSetup,
) -> None:
    sentinel = sentinel_of(sentinel_setup)
    master = sentinel.master_for(sentinel_setup.master_name)
    try:
        # WAIT counts the replicas that have this connection's writes: in one pipeline, on one
        # connection, or it says nothing about them.
        async with master.pipeline(transaction=False) as pipe:
            pipe.set("room:{general}:meta", "acknowledged")
            pipe.wait(1, 1000)
            _, replicas = await pipe.execute()
        assert replicas == 1
        old = sentinel_setup.kill_master()
        killed_at = time.monotonic()
        errors: list[type[BaseException]] = []
        while True:
            try:
                await master.set("room:{general}:after", "written")
                break
            except (ConnectionError, TimeoutError) as exc:
                errors.append(type(exc))
                assert time.monotonic() - killed_at < OUTAGE_BOUND, errors
                await asyncio.sleep(0.05)
        outage = time.monotonic() - killed_at
        new = await asyncio.to_thread(sentinel_setup.wait_for_failover)
        assert new != old.address
        assert master.connection_pool.master_address == new
        # The first command on a pooled connection to the dead master fails; until Sentinel
        # has marked it down it still names it (connect refused); then, while it elects and
        # promotes, no master at all (MasterNotFoundError, a ConnectionError).
        assert errors, "a write during the switch should have failed"
        assert set(errors) <= {ConnectionError, MasterNotFoundError, TimeoutError}, errors
        assert MasterNotFoundError in errors
        assert await master.get("room:{general}:meta") == b"acknowledged"
        assert ask(new, "GET", "room:{general}:after") == "written"
        print(f"writes failed for {outage:.1f} s: {len(errors)} errors")
    finally:
        await master.aclose()
        await sentinel.aclose()


async def test_a_pubsub_of_master_for_resubscribes_on_the_new_master(
    sentinel_setup: RedisSentinelSetup,
) -> None:
    sentinel = sentinel_of(sentinel_setup)
    master = sentinel.master_for(sentinel_setup.master_name)
    pubsub = master.pubsub()
    try:
        await pubsub.subscribe(CHANNEL)
        assert (await pubsub.get_message(timeout=1))["type"] == "subscribe"
        sentinel_setup.kill_master()
        new = await asyncio.to_thread(sentinel_setup.wait_for_failover)
        failures: list[type[BaseException]] = []
        deadline = time.monotonic() + OUTAGE_BOUND
        received = None
        while received is None and time.monotonic() < deadline:
            # Each call reconnects (asking the Sentinels for the master) and the connection's
            # on_connect callback subscribes again: no subscribe of our own.
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            except (ConnectionError, TimeoutError) as exc:
                failures.append(type(exc))
                await asyncio.sleep(0.1)
                continue
            if message is not None:
                received = message["data"]
            else:
                ask(new, "PUBLISH", CHANNEL, "after the failover")
        assert received == b"after the failover"
        assert failures, "reading from the killed master should have failed at least once"
        assert set(failures) <= {ConnectionError, MasterNotFoundError, TimeoutError}
        assert pubsub.connection is not None
        assert (pubsub.connection.host, pubsub.connection.port) == new
    finally:
        await pubsub.aclose()
        await master.aclose()
        await sentinel.aclose()


async def test_min_replicas_to_write_refuses_writes_nobody_would_keep(
    sentinel_setup: RedisSentinelSetup,
) -> None:
    sentinel = sentinel_of(sentinel_setup)
    master = sentinel.master_for(sentinel_setup.master_name)
    try:
        await master.config_set("min-replicas-to-write", 1)
        await master.set("room:{general}:meta", "kept by a replica")
        sentinel_setup.initial_replica.kill()
        deadline = time.monotonic() + 5
        while info(sentinel_setup.initial_master.address)["connected_slaves"] != "0":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        with pytest.raises(ResponseError, match=r"^NOREPLICAS"):
            await master.set("room:{general}:meta", "nobody has it")
        # A script that writes is refused as a whole, before it runs.
        with pytest.raises(ResponseError, match="NOREPLICAS"):
            await master.eval("return redis.call('INCR', KEYS[1])", 1, "room:{general}:meta")
        assert await master.get("room:{general}:meta") == b"kept by a replica"  # reads work
    finally:
        await master.aclose()
        await sentinel.aclose()


async def test_a_demoted_master_keeps_the_writes_of_pooled_connections_until_told(
    sentinel_setup: RedisSentinelSetup,
) -> None:
    """A failover away from a master that is alive (SENTINEL FAILOVER, or a partition that
    heals): a pooled connection still reaches the old master, which stays a master until a
    Sentinel converts it (~10 s later) and then drops what it took. redis-py asks the Sentinels
    only for new connections; ``+switch-master`` on a Sentinel's pub/sub says when to drop the
    pool, and ``min-replicas-to-write`` makes the old master refuse instead of keep."""
    sentinel = sentinel_of(sentinel_setup)
    master = sentinel.master_for(sentinel_setup.master_name)
    watcher = Redis(host=HOST, port=sentinel_setup.sentinels[1].port, socket_timeout=2)
    events = watcher.pubsub()
    old = sentinel_setup.initial_master
    try:
        await master.set("room:{general}:meta", "before")
        await events.subscribe("+switch-master")
        assert await events.get_message(timeout=1) is not None  # the confirmation
        new = await asyncio.to_thread(sentinel_setup.failover)
        switch = await events.get_message(ignore_subscribe_messages=True, timeout=5)
        assert switch is not None
        name, *_, new_host, new_port = switch["data"].decode().split()
        assert (name, (new_host, int(new_port))) == (sentinel_setup.master_name, new)

        await master.set("room:{general}:meta", "to the old master")  # no error at all
        assert ask(old.address, "GET", "room:{general}:meta") == "to the old master"
        assert ask(new, "GET", "room:{general}:meta") == "before"
        assert old.role() == "master"  # two masters, for now

        ask(old.address, "CONFIG", "SET", "min-replicas-to-write", "1")  # it has no replica
        with pytest.raises(ResponseError, match=r"^NOREPLICAS"):
            await master.set("room:{general}:meta", "refused")

        await master.connection_pool.disconnect()  # what +switch-master should trigger
        await master.set("room:{general}:meta", "to the new master")
        assert ask(new, "GET", "room:{general}:meta") == "to the new master"
    finally:
        await events.aclose()  # type: ignore[no-untyped-call]
        await watcher.aclose()
        await master.aclose()
        await sentinel.aclose()
