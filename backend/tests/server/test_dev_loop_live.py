"""The development loop (``npm run dev`` runs ``python -m app --reload``) takes production's
road: the guarded protocol classes with the app's settings, before and after a reload."""

import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.settings import REPOSITORY_ROOT
from testkit.processes import free_port, stop_process
from testkit.waiting import wait_until
from tests.servers import write_frontend

WATCHED_MODULE = REPOSITORY_ROOT / "backend" / "app" / "__init__.py"


def answers(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


def connection_cap_holds(ws_url: str) -> bool:
    """APP_MAX_CONNECTIONS=1 as the guarded classes enforce it: a second socket gets 503."""
    with connect(f"{ws_url}/ws") as first:
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{ws_url}/ws")
        first.send("still served")
        assert first.recv(timeout=5) == "Message text was: still served"
    return refused.value.response.status_code == 503


def test_the_reloading_dev_server_runs_the_guarded_protocols_before_and_after_a_reload(
    tmp_path: Path,
) -> None:
    port = free_port()
    http_url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    log = tmp_path / "dev.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--reload"],
            cwd=REPOSITORY_ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(REPOSITORY_ROOT / "backend"),
                "APP_PORT": str(port),
                "APP_FRONTEND_DIR": str(write_frontend(tmp_path / "dist")),
                "APP_MAX_CONNECTIONS": "1",
                "APP_SHUTDOWN_DRAIN_SECONDS": "0",
            },
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    modified = WATCHED_MODULE.stat()
    try:
        wait_until(
            lambda: answers(http_url),
            20,
            lambda: f"the dev server answers\n{log.read_text()}",
            every=0.1,
        )
        assert connection_cap_holds(ws_url)
        os.utime(WATCHED_MODULE)  # as an editor's save: the reloader restarts the server
        wait_until(
            lambda: "Reloading" in log.read_text(),
            10,
            lambda: f"a reload\n{log.read_text()}",
            every=0.1,
        )
        wait_until(
            lambda: log.read_text().count("Application startup complete") == 2,
            20,
            lambda: f"the reloaded server started\n{log.read_text()}",
            every=0.1,
        )
        assert connection_cap_holds(ws_url)
    finally:
        stop_process(process)
        os.utime(WATCHED_MODULE, ns=(modified.st_atime_ns, modified.st_mtime_ns))
    assert "Traceback" not in log.read_text()
