"""Fixtures that start Redis topologies of their own, and always stop them.

A missing binary skips these tests on a developer's machine and fails them in CI (``CI`` set),
as the ``redis_server`` fixture does: there a missing Redis is a broken set-up, never a skip.
"""

from collections.abc import Generator, Iterator

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
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sentinel_setup(request: pytest.FixtureRequest) -> Iterator[RedisSentinelSetup]:
    yield from running(made_or_skipped(RedisSentinelSetup), request)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[RedisClusterSetup]:
    """Three masters without replicas, shared by a module's tests that leave it as it was."""
    yield from running(made_or_skipped(lambda: RedisClusterSetup(replicas=0)), request)


@pytest.fixture
def fresh_cluster(request: pytest.FixtureRequest) -> Iterator[RedisClusterSetup]:
    """Three masters without replicas, for one test that kills, restarts or moves."""
    yield from running(made_or_skipped(lambda: RedisClusterSetup(replicas=0)), request)


@pytest.fixture
def cluster_with_replicas(request: pytest.FixtureRequest) -> Iterator[RedisClusterSetup]:
    """Three masters with a replica each, for one test that fails a master over."""
    yield from running(made_or_skipped(lambda: RedisClusterSetup(replicas=1)), request)
