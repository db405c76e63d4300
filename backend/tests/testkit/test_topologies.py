"""The testkit's Redis topologies themselves: they start, fail over, restart and stop, and say
which Debian package is missing when a binary is."""

import os
import tempfile
from pathlib import Path

import pytest

from testkit.processes import RedisMissing
from testkit.redis_topologies import (
    RedisClusterSetup,
    RedisNode,
    RedisSentinelSetup,
    ReplyError,
    TopologyError,
    ask,
    cluster_nodes,
    info,
    redis_server_binary,
)
from tests.testkit.topologies import made_or_skipped


def gone(nodes: list[RedisNode], pids: list[int]) -> bool:
    """Every node's process has exited (no pid left running, not even as a zombie)."""
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return not any(node.alive for node in nodes)


def pids_of(nodes: list[RedisNode]) -> list[int]:
    return [node.process.pid for node in nodes if node.process is not None]


def test_a_missing_redis_server_names_its_package_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(RedisMissing, match="'redis-server'"):
        RedisSentinelSetup()
    with pytest.raises(RedisMissing, match="'redis-server'"):
        RedisClusterSetup()
    assert list(temporary.iterdir()) == []  # no temporary folder made for nothing


def test_a_missing_redis_cli_names_its_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = made_or_skipped(redis_server_binary)
    only_server = tmp_path / "bin"  # a cluster is made by redis-cli: redis-server is not enough
    only_server.mkdir()
    (only_server / "redis-server").symlink_to(real)
    monkeypatch.setenv("PATH", str(only_server))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(RedisMissing, match="'redis-tools'"):
        RedisClusterSetup()
    assert list(temporary.iterdir()) == []


def test_a_missing_binary_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server"):
        made_or_skipped(RedisSentinelSetup)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="redis-server"):
        made_or_skipped(RedisSentinelSetup)


def test_sentinel_setup_fails_over_restarts_and_stops(tmp_path: Path) -> None:
    setup = made_or_skipped(lambda: RedisSentinelSetup(tmp_path))
    with setup:
        first, second = setup.initial_master, setup.initial_replica
        assert setup.master_address() == first.address
        assert (first.role(), second.role()) == ("master", "slave")
        assert len(setup.sentinel_addresses) == 3
        assert setup.kill_master() is first
        assert not first.alive
        assert setup.wait_for_failover(timeout=20) == second.address
        assert second.role() == "master"
        setup.restart(first)  # back empty, as a replica of the new master
        assert first.role() == "slave"
        assert info(first.address)["master_port"] == str(second.port)
        pids = pids_of(setup.all_nodes)
        assert len(pids) == 5
    assert gone(setup.all_nodes, pids)


def test_wait_for_failover_needs_a_kill_first(tmp_path: Path) -> None:
    setup = made_or_skipped(lambda: RedisSentinelSetup(tmp_path))
    with pytest.raises(TopologyError, match="kill_master"):
        setup.wait_for_failover(timeout=1)  # not even started: it fails before asking anyone


def test_cluster_setup_has_a_replica_per_master_and_fails_over(tmp_path: Path) -> None:
    setup = made_or_skipped(lambda: RedisClusterSetup(tmp_path, replicas=1))
    with setup:
        assert len(setup.seeds) == 6
        masters = setup.masters()
        assert len(masters) == 3
        assert all(len(setup.replicas_of(master)) == 1 for master in masters)
        key = "room:{general}:log"
        assert setup.slot_of(key) == setup.slot_of("room:{general}:meta")  # the hash tag
        owner = setup.node_for_key(key)
        (replica,) = setup.replicas_of(owner)
        assert setup.kill_master_of(key) is owner
        assert setup.wait_for_failover(key, timeout=20) is replica
        assert replica.role() == "master"
        setup.restart(owner)  # its nodes.conf makes it the new master's replica
        assert owner.role() == "slave"
        assert setup.replicas_of(replica) == [owner]
        pids = pids_of(setup.all_nodes)
        assert len(pids) == 6
    assert gone(setup.all_nodes, pids)


def test_a_cluster_without_replicas_serves_again_after_a_restart(
    fresh_cluster: RedisClusterSetup,
) -> None:
    key = "room:{general}:log"
    assert len(fresh_cluster.seeds) == 3
    owner = fresh_cluster.node_for_key(key)
    ask(owner.address, "SET", key, "before")
    assert fresh_cluster.kill_master_of(key) is owner
    with pytest.raises(TopologyError, match="does not fail over"):
        fresh_cluster.wait_for_failover(key, timeout=1)
    fresh_cluster.restart(owner)
    assert fresh_cluster.node_for_key(key) is owner
    assert ask(owner.address, "GET", key) is None  # no persistence: it came back empty
    assert ask(owner.address, "SET", key, "after") == "OK"


def test_a_slot_moves_with_its_keys(fresh_cluster: RedisClusterSetup) -> None:
    key = "room:{moving}:log"
    slot = fresh_cluster.slot_of(key)
    source = fresh_cluster.node_for_key(key)
    target = next(master for master in fresh_cluster.masters() if master is not source)
    ask(source.address, "SET", key, "kept")
    fresh_cluster.move_slot(slot, target)
    assert fresh_cluster.node_for_key(key) is target
    assert ask(target.address, "GET", key) == "kept"
    with pytest.raises(ReplyError, match=f"MOVED {slot} "):
        ask(source.address, "GET", key)
    for node in fresh_cluster.live_nodes():  # every node agrees
        views = cluster_nodes(node.address)
        assert [v.address for v in views if v.is_master and v.serves(slot)] == [target.address]


def test_a_failed_start_stops_what_it_started(tmp_path: Path) -> None:
    setup = made_or_skipped(lambda: RedisClusterSetup(tmp_path, replicas=0))
    setup.cli = "/bin/false"  # `redis-cli --cluster create` fails once the nodes run
    with pytest.raises(TopologyError, match="cluster create failed"):
        setup.start()
    assert not any(node.alive for node in setup.all_nodes)
