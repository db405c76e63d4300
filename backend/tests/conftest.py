"""What every test may ask for: the app in a TestClient, servers in threads or processes of
their own, a Redis.

One async style: a test that awaits is an ``async def test_...`` and nothing more. anyio's
pytest plugin runs it (``anyio_mode = "auto"`` in pyproject.toml) on the asyncio loop that
``anyio_backend`` below names, a fresh loop per test, closed with the test; async fixtures
(a Redis Cluster client) run on the same loop. Not ``asyncio.run(scenario())`` inside a sync
test: the test says what it awaits directly, without a nested coroutine and its returned
tuple, and a fixture can be async. Not pytest-asyncio: anyio's plugin comes with anyio,
which Starlette brings already. The servers run in threads or processes of their own, so a
blocking call in a test (``httpx2.get``, a process stopped) holds up the test's own clients
only; where they must go on meanwhile, the test calls it with ``asyncio.to_thread``.
"""

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
def anyio_backend() -> str:
    return "asyncio"


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
    with ThreadServers(tmp_path) as servers:
        yield servers


@pytest.fixture(scope="module")
def module_thread_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServers]:
    with ThreadServers(tmp_path_factory.mktemp("threads")) as servers:
        yield servers


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
