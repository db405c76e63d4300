import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from testkit.processes import RedisMissing, RedisServer
from tests.servers import LiveServer, start_live_server, stop_live_server, write_frontend


@pytest.fixture
def built_frontend(tmp_path: Path) -> Path:
    return write_frontend(tmp_path / "dist")


@pytest.fixture
def client(built_frontend: Path) -> Iterator[TestClient]:
    # TestClient names itself "testserver" in every request's Host.
    settings = Settings(frontend_dir=built_frontend, allowed_hosts=["testserver"])
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    server = start_live_server(folder / "uvicorn.log", write_frontend(folder / "dist"))
    yield server
    stop_live_server(server)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path)
    except RedisMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))  # in CI a missing Redis is a broken set-up, never a skip
        pytest.skip(str(missing))
    server.start()
    yield server
    server.stop()
