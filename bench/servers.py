"""The servers under test, each a process of its own pinned to the server core."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from testkit.processes import free_port, pinned_to, stop_process
from testkit.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE


@dataclass
class Server:
    """A uvicorn process: the project's (``python -m app``) or the guide's (plain ``uvicorn``)."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cores: set[int] | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # Whether start() waits for an answer to HTTP (the send floor answers none).
    ready: bool = True

    def start(self) -> "Server":
        handle, log_name = tempfile.mkstemp(prefix=f"bench-{self.name}-", suffix=".log")
        self.log_path = Path(log_name)
        self.process = subprocess.Popen(
            [arg.replace("{port}", str(self.port)) for arg in self.command],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT / "backend"),
                **self.env,
                "APP_PORT": str(self.port),
            },
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned_to(self.cores),
        )
        os.close(handle)  # the child has its own
        if not self.ready:
            time.sleep(0.5)
            return self
        # The project answers /api/health; the guide has no HTTP route, a 404 is an answer too.
        wait_until(self._answers, 30, f"{self.name} answering on port {self.port}", every=0.1)
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()}")
        try:
            httpx2.get(f"http://127.0.0.1:{self.port}/api/health", timeout=5)
        except httpx2.TransportError:
            return False
        return True

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process, timeout=15)
        self.process = None

    def kill(self) -> None:
        """At once: after 10,000 chat clients, a graceful stop would announce each departure
        to all the others, which measures nothing."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def project_server(name: str, cores: set[int] | None, **env: str) -> Server:
    defaults = {
        "APP_LOG_LEVEL": "warning",
        "APP_FRONTEND_DIR": str(ROOT / "frontend" / "dist"),
        # The rate limit is a policy cap (100 messages/s per connection), not a cost: a closed
        # loop on one connection would measure the cap. Its code still runs on every message.
        "APP_WS_MESSAGES_PER_SECOND": "1000000000",
        "APP_MAX_CONNECTIONS": "20000",
        # Every bench client comes from loopback, one address: the per-address ration of new
        # rooms (a policy against one client taking every room) would measure the ration.
        "APP_NEW_CHANNELS_PER_SECOND": "1000000",
        "APP_SHUTDOWN_DRAIN_SECONDS": "0",
    }
    return Server(name, [sys.executable, "-m", "app"], {**defaults, **env}, cores)


def guide_server(cores: set[int] | None) -> Server:
    """The guide's app under plain uvicorn: its defaults, only the log quieter."""
    command = [
        sys.executable, "-m", "uvicorn", "bench.guide_app:app",
        "--port", "{port}", "--log-level", "warning",
    ]  # fmt: skip
    return Server("guide", command, {}, cores)


def node_server(cores: set[int] | None) -> Server:
    """Node's ``ws``, as its documentation writes a server: the reference a user might pick."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is missing: ./scripts/bootstrap.sh provides one")
    return Server(
        "node-ws", [node, str(ROOT / "bench" / "node_ws_server.mjs"), "{port}"], {}, cores
    )


def send_floor_server(cores: set[int] | None, connections: int) -> Server:
    """Not a WebSocket server: one send() per socket, timed (bench/send_floor.py)."""
    command = [sys.executable, "-m", "bench.send_floor", "{port}", str(connections)]
    return Server("send-floor", command, {}, cores, ready=False)
