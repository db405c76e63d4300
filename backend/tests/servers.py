"""The app over real sockets: in this process (for an app built with its own settings) or as
``python -m app`` in a process of its own (for signals, memory, and several processes).

Tests get them from the two factories at the end, ``ThreadServers`` and ``ProcessServers``,
which conftest.py hands out per test (``thread_servers``, ``process_servers``) and per module
(``module_thread_servers``, ``module_process_servers``); ``serve_in_thread`` is the context
manager under the first, for a test that stops its server itself."""

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx2
import uvicorn
from fastapi import FastAPI

from app.main import create_app
from app.server.protocols import GuardedHttpProtocol, GuardedWebSocketProtocol
from app.settings import REPOSITORY_ROOT, Settings
from testkit.processes import free_port, stop_process
from testkit.waiting import NotWithin, wait_until

NOT_YET = (httpx2.TransportError,)  # what asking a server that is still starting gets

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
    """The app in a process of its own (``python -m app`` by default, with any arguments after
    it), answering on a free port once ``/api/health`` does; ``env`` sets its settings."""
    port = free_port()
    arguments = [sys.executable, *command]
    if command[: len(PYTHON_M_APP)] != PYTHON_M_APP:  # uvicorn's own command line
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

    def answering() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{server.log()}")
        httpx2.get(f"{server.http_url}/api/health", timeout=1).raise_for_status()
        return True

    try:
        wait_until(answering, 20, "uvicorn answering /api/health", every=0.1, ignoring=NOT_YET)
    except NotWithin as late:
        process.kill()
        raise RuntimeError(f"{late}:\n{server.log()}") from None
    return server


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
def serve_in_thread(served: Settings | FastAPI) -> Iterator[InProcessServer]:
    """Runs ``create_app(settings)`` (or an app built in the test, with features of its own)
    under uvicorn in a thread of this process, on a free port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(served) if isinstance(served, Settings) else served,
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
        wait_until(
            lambda: server.started or not thread.is_alive(),
            10,
            lambda: f"uvicorn started:\n{logs.text()}",
            every=0.02,
        )
        if not server.started:
            raise RuntimeError(f"uvicorn did not start:\n{logs.text()}")
        yield InProcessServer(port, logs)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        for logger in loggers:
            logger.removeHandler(logs)


def broker_connected(server: Addresses) -> bool:
    """Whether the server's ``/api/health`` says its chat broker is connected."""
    health = httpx2.get(f"{server.http_url}/api/health", timeout=2).json()
    return bool(health["chat_broker"]["connected"])


def wait_for_broker(server: Addresses, seconds: float) -> None:
    wait_until(lambda: broker_connected(server), seconds, f"{server.http_url}'s broker connected")


# --- the fixture factories (conftest.py hands them out per test and per module) --------------


class ThreadServers:
    """Servers in threads of this process, all stopped by ``stop()``: ``start(**settings)``
    serves ``create_app(Settings(frontend_dir=folder, **settings))``, ``start(app=...)`` an
    app built in the test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._running = ExitStack()

    def start(
        self, *, app: FastAPI | None = None, broker: bool = False, **settings: Any
    ) -> InProcessServer:
        """``broker``: returns once ``/api/health`` says the broker (a Redis) is connected."""
        served = app or Settings(**{"frontend_dir": self.folder, **settings})
        server = self._running.enter_context(serve_in_thread(served))
        if broker:
            wait_for_broker(server, 10)
        return server

    def stop(self) -> None:
        self._running.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class ProcessServers:
    """Servers in processes of their own (``python -m app`` unless told another command), on
    a built frontend, each logging to a file of the folder; ``stop()`` stops them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._frontend: Path | None = None
        self._started: list[tuple[LiveServer, bool]] = []

    def start(
        self,
        command: tuple[str, ...] = PYTHON_M_APP,
        /,
        *,
        broker: bool = False,
        clean_log: bool = False,
        **env: Any,
    ) -> LiveServer:
        """``env``: its environment, the APP_ settings as strings. ``broker``: returns once
        ``/api/health`` says the broker is connected. ``clean_log``: ``stop()`` checks that its
        log holds no traceback."""
        if self._frontend is None:
            self._frontend = write_frontend(self.folder / "dist")
        log_path = self.folder / f"uvicorn-{len(self._started) + 1}.log"
        server = start_live_server(log_path, self._frontend, command, **env)
        self._started.append((server, clean_log))
        if broker:
            wait_for_broker(server, 15)
        return server

    def start_two(self, **options: Any) -> list[LiveServer]:
        """Two processes with the same settings (on one Redis, say): ``start``'s options."""
        return [self.start(**options) for _ in range(2)]

    def stop(self) -> None:
        for server, _ in self._started:
            stop_live_server(server)
        for server, clean_log in self._started:
            assert not clean_log or "Traceback" not in server.log(), server.log_path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
