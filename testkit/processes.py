"""Child processes for tests and benchmarks: free ports, their memory, stopping, a redis-server
of their own."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from testkit.waiting import wait_until

REDIS_PACKAGE_HINT = (
    "redis-server not found: install Debian's package 'redis-server' "
    "(scripts/test.sh does so when run as root)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    """The process's resident memory (VmRSS), in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1))


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """SIGTERM, as a deploy sends it; SIGKILL if the process has not exited by ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def pinned_to(cores: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child to ``cores`` (None: anywhere)."""
    if not cores:
        return None
    return lambda: os.sched_setaffinity(0, cores)


class RedisMissing(RuntimeError):
    pass


class RedisServer:
    """A redis-server on a free loopback port, without persistence; it may be stopped and
    started again on the same port (empty, as a Redis restarted without persistence is)."""

    def __init__(self, folder: Path | None = None, cores: set[int] | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisMissing(REDIS_PACKAGE_HINT)
        self.binary = binary
        self.own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="redis-"))
        self.cores = cores
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pinned_to(self.cores),
        )  # fmt: skip
        wait_until(self.answers, 10, f"redis-server answering on port {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def remove(self) -> None:
        """Stops it and deletes its folder, if it made one."""
        self.stop()
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
