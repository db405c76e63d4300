"""Starting a topology in a test: skipped (failed under CI) when a binary is missing, always
stopped afterwards."""

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from testkit.processes import RedisMissing
from testkit.redis_topologies import RedisClusterSetup, RedisSentinelSetup

Made = TypeVar("Made")
Setup = TypeVar("Setup", RedisSentinelSetup, RedisClusterSetup)


def made_or_skipped(make: Callable[[], Made]) -> Made:
    """``make()``, or the test skipped (failed under CI) when a binary is missing."""
    try:
        return make()
    except RedisMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


def running(setup: Setup, request: pytest.FixtureRequest) -> Iterator[Setup]:
    """Starts ``setup``, yields it, and stops every process it started however the test ends;
    a failed test's report gets the end of every node's log."""
    try:
        setup.start()
        yield setup
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(f"\nRedis logs:\n{setup.logs()}")
        setup.stop()
