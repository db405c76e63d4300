"""Fixtures that start Redis topologies of their own, and always stop them.

Their nodes' folders (logs, nodes.conf, sentinel.conf) are pytest's temporary folders, kept
after a failure like any other. A missing binary skips these tests on a developer's machine
and fails them in CI (``CI`` set), as the ``redis_server`` fixture does: there a missing Redis
is a broken set-up, never a skip.
"""

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from testkit.redis_topologies import RedisClusterSetup, RedisSentinelSetup
from tests.testkit.topologies import made_or_skipped, running


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def sentinel_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisSentinelSetup]:
    yield from running(made_or_skipped(lambda: RedisSentinelSetup(tmp_path / "sentinel")), request)


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisClusterSetup]:
    """Three masters without replicas, shared by a module's tests that leave it as it was."""
    folder = tmp_path_factory.mktemp("cluster")
    yield from running(made_or_skipped(lambda: RedisClusterSetup(folder, replicas=0)), request)


@pytest.fixture
def fresh_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisClusterSetup]:
    """Three masters without replicas, for one test that kills, restarts or moves."""
    folder = tmp_path / "cluster"
    yield from running(made_or_skipped(lambda: RedisClusterSetup(folder, replicas=0)), request)


@pytest.fixture
def cluster_with_replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[RedisClusterSetup]:
    """Three masters with a replica each, for one test that fails a master over."""
    folder = tmp_path / "cluster"
    yield from running(made_or_skipped(lambda: RedisClusterSetup(folder, replicas=1)), request)
