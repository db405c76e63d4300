"""The app under bare uvicorn, with uvicorn's own protocol classes, in a process of its own.

There is no ``app.transport`` extension there, so every frame the app sends goes through
ASGI: the path the app takes under any other server (and with permessage-deflate), against
the fast path of ``python -m app``. Tests run the guide's contract through both."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from app.settings import REPOSITORY_ROOT
from testkit.processes import free_port
from tests.servers import LiveServer


def start_stock_uvicorn(log_path: Path, frontend_dir: Path) -> LiveServer:
    """``uvicorn app.main:create_app --factory``, as someone would run it without our
    protocol classes; the app reads its settings from the environment as ever."""
    port = free_port()
    with log_path.open("wb") as log_file:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "debug"),
            ],
            cwd=REPOSITORY_ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(REPOSITORY_ROOT / "backend"),
                "APP_FRONTEND_DIR": str(frontend_dir),
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
