"""The app over real sockets: in this process (for an app built with its own settings) or as
``python -m app`` in a process of its own (for signals, memory, and several processes)."""

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import uvicorn

from app.main import create_app
from app.server.protocols import GuardedHttpProtocol, GuardedWebSocketProtocol
from app.settings import REPOSITORY_ROOT, Settings
from testkit.processes import free_port, stop_process

INDEX_HTML = (
    '<!doctype html><html><head><script src="/assets/index-3f9a1c.js"></script></head></html>'
)
ASSET_JS = 'console.log("built")'


def write_frontend(folder: Path) -> Path:
    """A folder shaped like Vite's build output."""
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(INDEX_HTML)
    (folder / "assets" / "index-3f9a1c.js").write_text(ASSET_JS)
    return folder


class Addresses:
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class LiveServer(Addresses):
    """``python -m app`` in its own process, reached over real sockets."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


# How `python -m app` is started, and how bare uvicorn is (its own protocol classes, so every
# frame goes through ASGI: the path the app takes under any other server).
PYTHON_M_APP = ("-m", "app")
BARE_UVICORN = ("-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1")


def start_live_server(
    log_path: Path, frontend_dir: Path, command: tuple[str, ...] = PYTHON_M_APP, /, **env: str
) -> LiveServer:
    """The app in a process of its own (``python -m app`` by default), answering on a free
    port once ``/api/health`` does; ``env`` sets its settings."""
    port = free_port()
    arguments = [sys.executable, *command]
    if command != PYTHON_M_APP:
        arguments += ["--port", str(port), "--log-level", "debug"]
    with log_path.open("wb") as log_file:  # the child keeps its own descriptor
        process = subprocess.Popen(
            arguments,
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
    stop_process(server.process)


class LogLines(logging.Handler):
    """What the app and uvicorn log while a test runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        if record.exc_info:
            self.lines.append("Traceback")

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class InProcessServer(Addresses):
    """uvicorn serving an app built here, with the protocol classes of ``python -m app``."""

    port: int
    logs: LogLines

    def log(self) -> str:
        return self.logs.text()


@contextmanager
def serve_in_thread(settings: Settings) -> Iterator[InProcessServer]:
    """Runs ``create_app(settings)`` under uvicorn in a thread of this process, on a free port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        http=GuardedHttpProtocol,
        ws=GuardedWebSocketProtocol,
        log_config=None,  # leave logging to pytest; LogLines below collects the lines
        lifespan="on",
    )
    server = uvicorn.Server(config)
    logs = LogLines()
    loggers = [logging.getLogger(name) for name in ("app", "uvicorn.error", "uvicorn.access")]
    for logger in loggers:
        logger.addHandler(logs)
        if logger.name.startswith("uvicorn"):
            logger.setLevel(logging.INFO)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start:\n{logs.text()}")
            time.sleep(0.02)
        yield InProcessServer(port, logs)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        for logger in loggers:
            logger.removeHandler(logs)
