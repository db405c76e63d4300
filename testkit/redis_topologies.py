"""Redis topologies of their own for tests: a master and a replica watched by three Sentinels,
and a Redis Cluster (three masters, with or without a replica each).

Every node is Debian's ``redis-server`` (Sentinel is the same binary with ``--sentinel``) on free
loopback ports, in a temporary folder, without persistence. ``stop()`` ends every process it
started; the setups are context managers, and a process that outlives them anyway (the test run
itself killed) is ended by the kernel: each node is started through ``setpriv --pdeathsig KILL``
when started from the main thread, and an ``atexit`` hook stops whatever is left.

The calls here block (they poll with small sleeps): from async tests, call the waits through
``asyncio.to_thread`` so that the clients under test keep running meanwhile. Start and restart
from the main thread (a node started from another thread gets no parent-death signal, since
that signal follows the thread that started it).
"""

import atexit
import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from testkit.processes import REDIS_PACKAGE_HINT, RedisMissing, pinned_to
from testkit.waiting import NotWithin, wait_until

CLI_PACKAGE_HINT = (
    "redis-cli not found (Redis Cluster is created with `redis-cli --cluster create`): "
    "install Debian's package 'redis-tools' (a dependency of 'redis-server')"
)

Address = tuple[str, int]
Reply = str | int | None | list["Reply"]
HOST = "127.0.0.1"


class ReplyError(RuntimeError):
    """An error reply (``-ERR ...``) from a node."""


class TopologyError(RuntimeError):
    """A topology did not reach the state asked for within its time."""


# --- talking to a node: enough RESP2 to ask for INFO, ROLE, CLUSTER and SENTINEL ----------------


def ask(address: Address, *args: str | int, timeout: float = 2.0) -> Reply:
    """Sends one command on a connection of its own and returns the reply (bulk strings are
    decoded as UTF-8); an error reply raises ReplyError, an unreachable node OSError."""
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(_encoded(args))
        with conn.makefile("rb") as stream:
            return _read_reply(stream)


def _encoded(args: tuple[str | int, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream: BinaryIO) -> Reply:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("the node closed the connection")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise ReplyError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else stream.read(size + 2)[:-2].decode()
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_read_reply(stream) for _ in range(size)]
    raise ConnectionError(f"not a RESP2 reply: {line!r}")


def _text(reply: Reply) -> str:
    if not isinstance(reply, str):
        raise TypeError(f"expected a string reply, got {reply!r}")
    return reply


def _pairs(reply: Reply) -> dict[str, str]:
    """A flat [key, value, key, value, ...] reply (SENTINEL MASTER) as a dict."""
    if not isinstance(reply, list):
        raise TypeError(f"expected a list reply, got {reply!r}")
    items = [str(item) for item in reply]
    return dict(zip(items[::2], items[1::2], strict=True))


def info(address: Address, section: str = "replication") -> dict[str, str]:
    return _fields(_text(ask(address, "INFO", section)))


def cluster_info(address: Address) -> dict[str, str]:
    """CLUSTER INFO (``cluster_state``, ``cluster_known_nodes``, ...)."""
    return _fields(_text(ask(address, "CLUSTER", "INFO")))


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (all held at once while choosing)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind((HOST, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _wait_until(what: str, timeout: float, check: Callable[[], bool]) -> None:
    """``wait_until``, with a node's usual answers before it is up counted as "not yet"."""
    try:
        not_yet = (OSError, ReplyError, TypeError, ValueError, KeyError)
        wait_until(check, timeout, what, ignoring=not_yet)
    except NotWithin as late:
        raise TopologyError(str(late)) from None


# --- one process ---------------------------------------------------------------------------------

_LIVE: set["RedisNode"] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_leftovers() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    for node in leftovers:
        node.kill()


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisMissing(REDIS_PACKAGE_HINT)
    return binary


def redis_cli_binary() -> str:
    binary = shutil.which("redis-cli")
    if binary is None:
        raise RedisMissing(CLI_PACKAGE_HINT)
    return binary


class RedisNode:
    """A redis-server (or a Sentinel) on a fixed loopback port: started, killed, stopped and
    started again on the same port with the same folder (its nodes.conf or sentinel.conf)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        port: int,
        arguments: list[str],
        *,
        binary: str,
        cores: set[int] | None = None,
    ) -> None:
        self.name = name
        self.folder = folder
        self.port = port
        self.arguments = arguments  # after the binary; may be changed before a restart
        self.binary = binary
        self.cores = cores
        self.log = folder / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<RedisNode {self.name} {HOST}:{self.port}{'' if self.alive else ' (down)'}>"

    @property
    def address(self) -> Address:
        return (HOST, self.port)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10) -> None:
        if self.alive:
            raise TopologyError(f"{self.name} is already running")
        command = [self.binary, *self.arguments]
        setpriv = shutil.which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            command = [setpriv, "--pdeathsig", "KILL", *command]  # execs: same pid
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                preexec_fn=pinned_to(self.cores),
            )
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            _wait_until(f"{self.name} answering on port {self.port}", timeout, self._answers_alive)
        except TopologyError as exc:
            self.kill()
            raise TopologyError(f"{exc}; its log ends with:\n{self.log_tail()}") from exc

    def _answers_alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise TopologyError(f"{self.name} exited with {self.process.returncode}")
        return self.answers()

    def answers(self) -> bool:
        try:
            return ask(self.address, "PING", timeout=0.5) == "PONG"
        except (OSError, ReplyError):
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer ends it: no goodbye to its peers."""
        self._end(signal.SIGKILL, timeout=10)

    def stop(self, timeout: float = 5) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
        self._end(signal.SIGTERM, timeout)

    def _end(self, signum: signal.Signals, timeout: float) -> None:
        process = self.process
        if process is not None:
            if process.poll() is None:
                process.send_signal(signum)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self.process = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def role(self) -> str:
        """``master``, ``slave`` or ``sentinel``, as ROLE says."""
        reply = ask(self.address, "ROLE")
        if not isinstance(reply, list) or not reply:
            raise TypeError(f"ROLE: unexpected reply {reply!r}")
        return _text(reply[0])


def _stop_all(nodes: list[RedisNode]) -> None:
    """SIGTERM to all at once, then waits for each (SIGKILL for those that linger)."""
    for node in nodes:
        if node.alive and node.process is not None:
            node.process.terminate()
    for node in nodes:
        node.stop()


class _Topology:
    def __init__(self, folder: Path | None, prefix: str) -> None:
        self.binary = redis_server_binary()  # before making a folder that would be left over
        self.own_folder = folder is None
        self.folder = folder if folder is not None else Path(tempfile.mkdtemp(prefix=prefix))

    @property
    def all_nodes(self) -> list[RedisNode]:
        raise NotImplementedError

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Ends every process (also those a test killed or restarted) and removes the folder
        if the setup made it."""
        _stop_all(self.all_nodes)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def logs(self, lines: int = 15) -> str:
        """The end of every node's log, for a failing test's report."""
        return "\n".join(
            f"--- {node.name} ({HOST}:{node.port}) ---\n{node.log_tail(lines)}"
            for node in self.all_nodes
        )


def _data_node_arguments(port: int, folder: Path) -> list[str]:
    return [
        "--port", str(port),
        "--bind", HOST,
        "--save", "",
        "--appendonly", "no",
        # A replica's full sync streams the snapshot at once, not after the default 5 s wait
        # for more replicas to share it.
        "--repl-diskless-sync-delay", "0",
        "--dir", str(folder),
        "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip


# --- Sentinel ------------------------------------------------------------------------------------


class RedisSentinelSetup(_Topology):
    """One master, one replica and three Sentinels (quorum 2) watching them, with timings short
    enough that a failover completes in a few seconds.

    Sentinels learn about each other through the master's ``__sentinel__:hello`` channel
    (every 2 s), so ``start()`` takes about that long: it returns once every Sentinel sees the
    replica and can reach its quorum and a majority (``SENTINEL CKQUORUM``)."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        master_name: str = "mymaster",
        quorum: int = 2,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
        cores: set[int] | None = None,
    ) -> None:
        super().__init__(folder, "redis-sentinel-")
        self._master_name = master_name
        ports = _free_ports(5)
        self.nodes = [
            RedisNode(
                name,
                self.folder / name,
                port,
                _data_node_arguments(port, self.folder / name),
                binary=self.binary,
                cores=cores,
            )
            for name, port in (("redis-a", ports[0]), ("redis-b", ports[1]))
        ]
        self.initial_master, self.initial_replica = self.nodes
        self.initial_replica.arguments += ["--replicaof", HOST, str(self.initial_master.port)]
        self.sentinels: list[RedisNode] = []
        for number, port in enumerate(ports[2:], start=1):
            folder_of = self.folder / f"sentinel-{number}"
            folder_of.mkdir(parents=True)
            config = folder_of / "sentinel.conf"  # Sentinel rewrites it: it must be writable
            config.write_text(
                f"port {port}\n"
                f"bind {HOST}\n"
                f"dir {folder_of}\n"
                f"logfile {folder_of / 'redis.log'}\n"
                f"sentinel monitor {master_name} {HOST} {self.initial_master.port} {quorum}\n"
                f"sentinel down-after-milliseconds {master_name} {down_after_ms}\n"
                f"sentinel failover-timeout {master_name} {failover_timeout_ms}\n"
                f"sentinel parallel-syncs {master_name} 1\n"
            )
            self.sentinels.append(
                RedisNode(
                    f"sentinel-{number}",
                    folder_of,
                    port,
                    [str(config), "--sentinel"],
                    binary=self.binary,
                    cores=cores,
                )
            )
        self._killed: RedisNode | None = None

    @property
    def all_nodes(self) -> list[RedisNode]:
        return [*self.nodes, *self.sentinels]

    @property
    def master_name(self) -> str:
        return self._master_name

    @property
    def sentinel_addresses(self) -> list[Address]:
        return [sentinel.address for sentinel in self.sentinels]

    def _start(self) -> None:
        self.initial_master.start()
        self.initial_replica.start()
        # The replica first: a Sentinel finds replicas in the master's INFO, which it asks for
        # on connecting and then only every 10 s.
        self._wait_replica_synced(self.initial_replica, timeout=10)
        for sentinel in self.sentinels:
            sentinel.start()
        self.wait_until_watched(timeout=15)

    def _wait_replica_synced(self, replica: RedisNode, timeout: float) -> None:
        def synced() -> bool:
            return info(replica.address).get("master_link_status") == "up"

        _wait_until(f"{replica.name} in sync with its master", timeout, synced)

    def wait_until_watched(self, timeout: float = 15) -> None:
        """Until every live Sentinel agrees on the master, sees a live replica, and can reach
        quorum and a majority: a failover can then happen."""
        _wait_until("the Sentinels watching master and replica", timeout, self._watched)

    def _live_sentinels(self) -> list[RedisNode]:
        return [sentinel for sentinel in self.sentinels if sentinel.alive]

    def _watched(self) -> bool:
        live = self._live_sentinels()
        if len({self._master_address_from(sentinel) for sentinel in live}) != 1:
            return False
        for sentinel in live:
            ask(sentinel.address, "SENTINEL", "CKQUORUM", self._master_name)  # or ReplyError
            replicas = ask(sentinel.address, "SENTINEL", "REPLICAS", self._master_name)
            if not isinstance(replicas, list):
                return False
            flags = [_pairs(replica)["flags"] for replica in replicas]
            if not any("s_down" not in flag and "disconnected" not in flag for flag in flags):
                return False
        return True

    def master_address(self) -> Address:
        """The master's address as the first Sentinel that answers says it."""
        for sentinel in self.sentinels:
            if not sentinel.alive:
                continue
            try:
                return self._master_address_from(sentinel)
            except (OSError, ReplyError, TypeError):
                continue
        raise TopologyError("no Sentinel answered")

    def _master_address_from(self, sentinel: RedisNode) -> Address:
        reply = ask(sentinel.address, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self._master_name)
        if not isinstance(reply, list) or len(reply) != 2:
            raise TypeError(f"GET-MASTER-ADDR-BY-NAME: unexpected reply {reply!r}")
        return _text(reply[0]), int(_text(reply[1]))

    def node_at(self, address: Address) -> RedisNode:
        for node in self.nodes:
            if node.address == address:
                return node
        raise KeyError(f"no node of this setup at {address}")

    def master(self) -> RedisNode:
        return self.node_at(self.master_address())

    def kill_master(self) -> RedisNode:
        """SIGKILLs the current master (as the Sentinels say it) and returns it."""
        master = self.master()
        master.kill()
        self._killed = master
        return master

    def wait_for_failover(self, timeout: float = 20) -> Address:
        """Until every live Sentinel names another master than the one killed, and that node
        says it is a master; returns its address."""
        if self._killed is None:
            raise TopologyError("wait_for_failover() without kill_master() first")
        old = self._killed.address

        def failed_over() -> bool:
            masters = {self._master_address_from(s) for s in self._live_sentinels()}
            if len(masters) != 1 or old in masters:
                return False
            return self.node_at(masters.pop()).role() == "master"

        _wait_until(f"a failover from {self._killed.name}", timeout, failed_over)
        return self.master_address()

    def failover(self, timeout: float = 20) -> Address:
        """A manual failover (``SENTINEL FAILOVER``) of a master that is alive: returns the new
        master's address once every Sentinel names it. The old master is not told at once:
        it stays a master, taking writes, until a Sentinel's next INFO of it (every 10 s)
        converts it into a replica, which drops what it took meanwhile."""
        old = self.master_address()
        ask(self._live_sentinels()[0].address, "SENTINEL", "FAILOVER", self._master_name)

        def switched() -> bool:
            masters = {self._master_address_from(s) for s in self._live_sentinels()}
            if len(masters) != 1 or old in masters:
                return False
            return self.node_at(masters.pop()).role() == "master"

        _wait_until("a manual failover", timeout, switched)
        return self.master_address()

    def restart(self, node: RedisNode, timeout: float = 15, *, wait: bool = True) -> None:
        """Starts ``node`` again on its port. A Redis node comes back empty (no persistence) as
        a replica of the current master, as Sentinel would make it anyway (it reconfigures an
        old master that returns); a Sentinel comes back with its own rewritten config.

        It returns once the node is in sync and watched again; with ``wait=False`` as soon as
        the node answers (then ``wait_until_watched``, e.g. through ``asyncio.to_thread``)."""
        if node in self.sentinels:
            node.start()
            if wait:
                self.wait_until_watched(timeout)
            return
        arguments = _data_node_arguments(node.port, node.folder)
        master = self.master_address()
        if master != node.address:
            arguments += ["--replicaof", master[0], str(master[1])]
        node.arguments = arguments
        node.start()
        if self._killed is node:
            self._killed = None
        if wait:
            if master != node.address:
                self._wait_replica_synced(node, timeout)
            self.wait_until_watched(timeout)


# --- Cluster -------------------------------------------------------------------------------------


class ClusterNodeView:
    """One line of CLUSTER NODES."""

    def __init__(self, line: str) -> None:
        fields = line.split()
        self.id = fields[0]
        address = fields[1].split("@")[0].split(",")[0]
        host, _, port = address.rpartition(":")
        self.address: Address = (host, int(port))
        self.flags = set(fields[2].split(","))
        self.master_id = None if fields[3] == "-" else fields[3]
        self.connected = fields[7] == "connected"
        self.slots: list[tuple[int, int]] = []
        for item in fields[8:]:
            if item.startswith("["):
                continue  # a slot being imported or migrated
            first, _, last = item.partition("-")
            self.slots.append((int(first), int(last or first)))

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def failing(self) -> bool:
        return bool(self.flags & {"fail", "fail?", "noaddr"})

    def serves(self, slot: int) -> bool:
        return any(first <= slot <= last for first, last in self.slots)


def cluster_nodes(address: Address) -> list[ClusterNodeView]:
    """CLUSTER NODES as the node at ``address`` sees the cluster."""
    return [ClusterNodeView(line) for line in _text(ask(address, "CLUSTER", "NODES")).splitlines()]


class RedisClusterSetup(_Topology):
    """A Redis Cluster of ``masters`` masters with ``replicas`` replicas each (3 and 1: six
    nodes), created by ``redis-cli --cluster create``; ``start()`` returns once every node says
    ``cluster_state:ok``, knows every other node, and every replica is in sync.

    Each node's cluster bus has a port of its own (``cluster-port``), so that a free port near
    the top of the range does not need a bus port above 65535. ``cluster-node-timeout`` is
    short (1 s), so a replica takes over a killed master in about 2-3 s."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        masters: int = 3,
        replicas: int = 1,
        node_timeout_ms: int = 1000,
        require_full_coverage: bool = True,
        cores: set[int] | None = None,
    ) -> None:
        self.cli = redis_cli_binary()
        super().__init__(folder, "redis-cluster-")
        self.masters_wanted = masters
        self.replicas = replicas
        count = masters * (1 + replicas)
        ports = _free_ports(2 * count)
        self.nodes: list[RedisNode] = []
        for number in range(count):
            port, bus_port = ports[2 * number], ports[2 * number + 1]
            folder_of = self.folder / f"node-{number + 1}"
            arguments = [
                *_data_node_arguments(port, folder_of),
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(folder_of / "nodes.conf"),
                "--cluster-port", str(bus_port),
                "--cluster-node-timeout", str(node_timeout_ms),
                "--cluster-require-full-coverage", "yes" if require_full_coverage else "no",
                "--cluster-allow-replica-migration", "no",
            ]  # fmt: skip
            self.nodes.append(
                RedisNode(
                    f"node-{number + 1}",
                    folder_of,
                    port,
                    arguments,
                    binary=self.binary,
                    cores=cores,
                )
            )
        self._killed: dict[int, RedisNode] = {}  # slot -> the master killed while serving it

    @property
    def all_nodes(self) -> list[RedisNode]:
        return self.nodes

    @property
    def seeds(self) -> list[Address]:
        return [node.address for node in self.nodes]

    def _start(self) -> None:
        for node in self.nodes:
            node.start()
        created = subprocess.run(
            [
                self.cli,
                "--cluster", "create",
                *(f"{HOST}:{node.port}" for node in self.nodes),
                "--cluster-replicas", str(self.replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        if created.returncode != 0:
            output = (created.stdout + created.stderr).decode(errors="replace")
            raise TopologyError(f"redis-cli --cluster create failed:\n{output}")
        self.wait_until_ok(timeout=30)

    def live_nodes(self) -> list[RedisNode]:
        return [node for node in self.nodes if node.alive]

    def node_at(self, address: Address) -> RedisNode:
        for node in self.nodes:
            if node.address == address:
                return node
        raise KeyError(f"no node of this setup at {address}")

    def wait_until_ok(self, timeout: float = 20) -> None:
        """Until every live node says ``cluster_state:ok``, sees every other live node as
        connected and not failing, agrees on who serves every slot and on which nodes are
        replicas, and every live replica is in sync with its master."""
        _wait_until("the cluster settled", timeout, self._settled)

    def _settled(self) -> bool:
        live = self.live_nodes()
        addresses = {node.address for node in live}
        agreed: set[tuple[tuple[int, int], Address]] | None = None
        for node in live:
            if cluster_info(node.address).get("cluster_state") != "ok":
                return False
            views = {view.address: view for view in cluster_nodes(node.address)}
            for address in addresses:
                view = views.get(address)
                if view is None or view.failing or not view.connected:
                    return False
            owners = {(r, v.address) for v in views.values() if v.is_master for r in v.slots}
            if agreed is not None and owners != agreed:
                return False
            # Each live replica known as one (gossip tells it node by node).
            replicas = {v.address for v in views.values() if v.master_id is not None}
            if replicas != {n.address for n in live if n.role() == "slave"}:
                return False
            agreed = owners
            if node.role() == "slave" and info(node.address).get("master_link_status") != "up":
                return False
        return True

    def slot_of(self, key: str) -> int:
        """The key's hash slot, as a live node computes it (CLUSTER KEYSLOT)."""
        reply = ask(self.live_nodes()[0].address, "CLUSTER", "KEYSLOT", key)
        if not isinstance(reply, int):
            raise TypeError(f"CLUSTER KEYSLOT: unexpected reply {reply!r}")
        return reply

    def master_of_slot(self, slot: int) -> RedisNode:
        """The master serving ``slot``, as the first live node says."""
        for view in cluster_nodes(self.live_nodes()[0].address):
            if view.is_master and view.serves(slot) and not view.failing:
                return self.node_at(view.address)
        raise TopologyError(f"no master serves slot {slot}")

    def node_for_key(self, key: str) -> RedisNode:
        """The master serving ``key``'s slot."""
        return self.master_of_slot(self.slot_of(key))

    def masters(self) -> list[RedisNode]:
        views = cluster_nodes(self.live_nodes()[0].address)
        return [self.node_at(v.address) for v in views if v.is_master and v.slots]

    def replicas_of(self, master: RedisNode) -> list[RedisNode]:
        views = cluster_nodes(self.live_nodes()[0].address)
        ids = {view.address: view.id for view in views}
        return [
            self.node_at(view.address)
            for view in views
            if view.master_id is not None and view.master_id == ids.get(master.address)
        ]

    def kill_master_of(self, key: str) -> RedisNode:
        """SIGKILLs the master serving ``key``'s slot and returns it."""
        slot = self.slot_of(key)
        master = self.master_of_slot(slot)
        master.kill()
        self._killed[slot] = master
        return master

    def wait_for_failover(self, key: str, timeout: float = 20) -> RedisNode:
        """Until a replica has taken over ``key``'s slot from the master killed by
        ``kill_master_of(key)`` and the cluster is ok again on every live node; returns the new
        master. (Without replicas nothing takes over: restart the master instead.)"""
        slot = self.slot_of(key)
        killed = self._killed.get(slot)
        if killed is None:
            raise TopologyError(f"wait_for_failover({key!r}) without kill_master_of() first")
        if self.replicas == 0:
            raise TopologyError("a cluster without replicas does not fail over")

        def taken_over() -> bool:
            for node in self.live_nodes():
                owners = {
                    view.address
                    for view in cluster_nodes(node.address)
                    if view.is_master and view.serves(slot) and not view.failing
                }
                if len(owners) != 1 or killed.address in owners:
                    return False
            return True

        _wait_until(f"a failover of slot {slot}", timeout, taken_over)
        self.wait_until_ok(timeout)
        return self.master_of_slot(slot)

    def move_slot(self, slot: int, target: RedisNode, timeout: float = 20) -> None:
        """Moves ``slot`` (and its keys) to the master ``target`` the way ``redis-cli --cluster
        reshard`` does: IMPORTING on the target, MIGRATING on the source, MIGRATE of the keys,
        then SETSLOT NODE on both and every other master. Clients meanwhile see ASK for keys
        already moved, and MOVED afterwards; shard-channel subscribers of the slot on the
        source get a ``sunsubscribe`` when the slot leaves it."""
        source = self.master_of_slot(slot)
        if source is target:
            return
        ids = {view.address: view.id for view in cluster_nodes(source.address)}
        source_id, target_id = ids[source.address], ids[target.address]
        ask(target.address, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        ask(source.address, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        while True:
            keys = ask(source.address, "CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not isinstance(keys, list) or not keys:
                break
            ask(
                source.address,
                *("MIGRATE", HOST, target.port, "", 0, 5000, "KEYS"),
                *(_text(key) for key in keys),
            )
        for node in [target, source, *(m for m in self.masters() if m not in (source, target))]:
            ask(node.address, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.wait_until_ok(timeout)

    def restart(self, node: RedisNode, timeout: float = 20, *, wait: bool = True) -> None:
        """Starts ``node`` again on its port with its nodes.conf (so it is the same cluster
        node), empty (no persistence). A master that a replica replaced comes back as that
        replica's replica; a master nobody replaced (``replicas=0``) serves its slots again,
        once its peers clear its FAIL flag (about two node timeouts after it answers).

        It returns once the cluster is ok again; with ``wait=False`` as soon as the node
        answers (then ``wait_until_ok``, e.g. through ``asyncio.to_thread``)."""
        node.start()
        self._killed = {slot: dead for slot, dead in self._killed.items() if dead is not node}
        if wait:
            self.wait_until_ok(timeout)
