from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from testkit.processes import RedisServer
from tests.servers import LiveServer, ProcessServers, ThreadServers, write_frontend
from tests.testkit.topologies import made_or_skipped


@pytest.fixture
def built_frontend(tmp_path: Path) -> Path:
    return write_frontend(tmp_path / "dist")


@pytest.fixture
def client(built_frontend: Path) -> Iterator[TestClient]:
    # TestClient names itself "testserver" in every request's Host.
    settings = Settings(frontend_dir=built_frontend, allowed_hosts=["testserver"])
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# --- servers: in a thread of this process, or in processes of their own ---------------------
# Each factory stops what it started when its test (or module) ends. Ask for it after the
# fixtures its servers use (a Redis), so that the servers stop first.


@pytest.fixture
def thread_servers(tmp_path: Path) -> Iterator[ThreadServers]:
    servers = ThreadServers(tmp_path)
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def module_thread_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServers]:
    servers = ThreadServers(tmp_path_factory.mktemp("threads"))
    yield servers
    servers.stop()


@pytest.fixture
def process_servers(tmp_path: Path) -> Iterator[ProcessServers]:
    with ProcessServers(tmp_path) as servers:
        yield servers


@pytest.fixture(scope="module")
def module_process_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ProcessServers]:
    with ProcessServers(tmp_path_factory.mktemp("processes")) as servers:
        yield servers


@pytest.fixture(scope="module")
def live_server(module_process_servers: ProcessServers) -> LiveServer:
    """``python -m app`` with its defaults, shared by a module's tests."""
    return module_process_servers.start()


@pytest.fixture
def two_processes_settings(redis_server: RedisServer) -> dict[str, str]:
    """What ``two_processes`` starts both with: one Redis. A module that needs more overrides
    this fixture (with APP_REDIS_URL kept, or another topology's settings)."""
    return {"APP_REDIS_URL": redis_server.url}


@pytest.fixture
def two_processes(
    two_processes_settings: dict[str, str], process_servers: ProcessServers
) -> list[LiveServer]:
    """Two ``python -m app`` processes on one broker, each connected to it, whose logs must
    hold no traceback when they stop."""
    return process_servers.start_two(broker=True, clean_log=True, **two_processes_settings)


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of its own; the test skipped where there is none (failed in CI, where a
    missing Redis is a broken set-up, never a skip)."""
    server = made_or_skipped(lambda: RedisServer(tmp_path)).start()
    yield server
    server.stop()
