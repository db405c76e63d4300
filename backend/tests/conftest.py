import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import REPOSITORY_ROOT, Settings

if TYPE_CHECKING:
    from tests.redis_server import RedisServer

INDEX_HTML = (
    '<!doctype html><html><head><script src="/assets/index-3f9a1c.js"></script></head></html>'
)
ASSET_JS = 'console.log("built")'


@pytest.fixture
def built_frontend(tmp_path: Path) -> Path:
    """A folder shaped like Vite's build output."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX_HTML)
    (tmp_path / "assets" / "index-3f9a1c.js").write_text(ASSET_JS)
    return tmp_path


@pytest.fixture
def client(built_frontend: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(frontend_dir=built_frontend))) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """uvicorn in its own process, reached over real sockets."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text()


def start_live_server(log_path: Path, frontend_dir: Path, **env: str) -> LiveServer:
    port = free_port()
    with log_path.open("wb") as log_file:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=REPOSITORY_ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(REPOSITORY_ROOT / "backend"),
                "APP_PORT": str(port),
                "APP_FRONTEND_DIR": str(frontend_dir),
                "APP_LOG_LEVEL": "debug",
                **env,
            },
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, port, log_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{server.log()}")
        try:
            httpx2.get(f"{server.http_url}/api/health", timeout=1).raise_for_status()
            return server
        except httpx2.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"uvicorn did not answer within 20 s:\n{server.log()}")


def stop_live_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    (folder / "dist" / "assets").mkdir(parents=True)
    (folder / "dist" / "index.html").write_text(INDEX_HTML)
    server = start_live_server(folder / "uvicorn.log", folder / "dist")
    yield server
    stop_live_server(server)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator["RedisServer"]:
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
