"""An nginx of the tests' own, on a free loopback port, configured as the README says.

The ``location`` and ``map`` blocks are taken from the README's nginx example itself, so the
tests check the configuration people copy, not one of their own: only the ports change (and
TLS, which the tests do without).
"""

import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from testkit.processes import free_port, stop_process
from testkit.waiting import wait_until

NGINX_PACKAGE_HINT = (
    "nginx not found: install Debian's package 'nginx' (scripts/test.sh does so when run as root)"
)


class NginxMissing(RuntimeError):
    pass


def readme_server_blocks(readme: Path) -> tuple[str, str]:
    """The README's nginx example: its ``map`` block, and its ``location /`` block."""
    example = re.search(r"```nginx\n(.*?)```", readme.read_text(), re.DOTALL)
    if example is None:
        raise ValueError(f"{readme} has no nginx example")
    text = example.group(1)
    map_block = re.search(r"map \$http_upgrade.*?\n\}", text, re.DOTALL)
    location = re.search(r"    location / \{.*?\n    \}", text, re.DOTALL)
    if map_block is None or location is None:
        raise ValueError("the README's nginx example lost its map or location block")
    return map_block.group(0), location.group(0)


class NginxProxy:
    def __init__(self, readme: Path, upstreams: list[int]) -> None:
        binary = shutil.which("nginx") or next(
            (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
        )
        if binary is None:
            raise NginxMissing(NGINX_PACKAGE_HINT)
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.port = free_port()
        map_block, location = readme_server_blocks(readme)
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in upstreams)
        folder = self.folder
        (folder / "nginx.conf").write_text(
            f"""
daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{map_block}
    upstream realtime_app {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        server_name localhost;
{location}
    }}
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> "NginxProxy":
        with (self.folder / "stderr.log").open("wb") as stderr:  # the child keeps its own
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        wait_until(self._listening, 10, f"nginx listening on port {self.port}")
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            error = (self.folder / "stderr.log").read_text()
            raise RuntimeError(f"nginx exited with {self.process.returncode}: {error}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
