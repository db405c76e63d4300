"""One Redis against a 3-shard Redis Cluster, the same load in the same run: ``python -m
bench.topologies`` (about 4 minutes) prints the tables and rewrites
docs/benchmarks-topologies.md.

Two app processes share the broker; many chat rooms (``chat:spread-N``) spread over the
cluster's slots, each followed by members on ``/ws/realtime`` on both processes. Each setup is
measured in turn, ABBA:

- *fan-out*: in every room one member publishes over its connection and, once it hears its own
  event back, publishes the next (one in flight per room, every room at once);
- *HTTP publish*: services publish with ``POST /api/channels/chat:spread-N/events`` (the
  publisher role), over kept-alive connections, each the next once answered.

Each run counts, over its window: events placed per second, deliveries per second (an event to
one subscriber), the app processes' CPU per delivery, and Redis's own cost: commands and CPU
time per placed event, summed over every master. Then, once per setup, Redis's memory per room
of history: rooms filled to their bound, ``used_memory`` before and after.

These are the figures docs/scaling.md builds its capacity model on.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.channels import PUBLISHED, TOKEN_SECRET, HttpConnection, open_subscriber
from bench.channels import publisher_token as make_publisher_token
from bench.servers import Server, cpu_seconds, project_server
from bench.wsclient import BenchClient
from testkit.processes import RedisServer
from testkit.redis_topologies import Address, RedisClusterSetup, ask, info

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks-topologies.md"
ONE = "one Redis"
CLUSTER = "3-shard Cluster"


@dataclass
class Load:
    rooms: int = 60
    members: int = 10  # per room, spread over the two processes
    http_publishers: int = 8
    seconds: float = 8.0
    text_size: int = 64
    history_rooms: int = 100
    history_events: int = 200


@dataclass
class RedisCost:
    commands: int
    cpu_seconds: float
    # Calls by command (INFO commandstats), those a script makes included.
    calls: dict[str, int]

    def __sub__(self, other: "RedisCost") -> "RedisCost":
        calls = {name: n - other.calls.get(name, 0) for name, n in self.calls.items()}
        return RedisCost(
            self.commands - other.commands,
            self.cpu_seconds - other.cpu_seconds,
            {name: n for name, n in calls.items() if n > 0},
        )


@dataclass
class ThroughputResult:
    setup: str
    mode: str
    events_per_second: float
    deliveries_per_second: float
    app_cpu_us_per_delivery: float
    redis_commands_per_event: float
    redis_cpu_us_per_event: float
    redis_calls_per_event: dict[str, float] = field(default_factory=dict)


@dataclass
class HistoryResult:
    setup: str
    rooms: int
    events_per_room: int
    text_size: int
    redis_bytes_per_room: float


@dataclass
class Results:
    load: Load
    throughput: list[ThroughputResult] = field(default_factory=list)
    history: list[HistoryResult] = field(default_factory=list)


class Broker:
    """One of the two setups: the app's settings for it and its masters' addresses."""

    def __init__(self, setup: str, cores: set[int] | None) -> None:
        self.setup = setup
        self.single: RedisServer | None = None
        self.cluster: RedisClusterSetup | None = None
        if setup == ONE:
            self.single = RedisServer(cores=cores).start()
        else:
            # No replicas: the figures are of the work per shard, not of replication.
            self.cluster = RedisClusterSetup(masters=3, replicas=0, cores=cores).start()

    @property
    def env(self) -> dict[str, str]:
        if self.single is not None:
            return {"APP_REDIS_URL": self.single.url}
        assert self.cluster is not None
        return {"APP_REDIS_CLUSTER": ",".join(f"{h}:{p}" for h, p in self.cluster.seeds)}

    @property
    def masters(self) -> list[Address]:
        if self.single is not None:
            return [("127.0.0.1", self.single.port)]
        assert self.cluster is not None
        return self.cluster.seeds

    def cost(self) -> RedisCost:
        commands, cpu, calls = 0, 0.0, dict[str, int]()
        for address in self.masters:
            commands += int(info(address, "stats")["total_commands_processed"])
            used = info(address, "cpu")
            cpu += float(used["used_cpu_user"]) + float(used["used_cpu_sys"])
            for name, stats in info(address, "commandstats").items():
                command = name.removeprefix("cmdstat_")
                count = int(stats.split(",", 1)[0].removeprefix("calls="))
                calls[command] = calls.get(command, 0) + count
        return RedisCost(commands, cpu, calls)

    def used_memory(self) -> int:
        return sum(int(info(address, "memory")["used_memory"]) for address in self.masters)

    def flush(self) -> None:
        for address in self.masters:
            ask(address, "FLUSHALL")

    def remove(self) -> None:
        if self.single is not None:
            self.single.remove()
        if self.cluster is not None:
            self.cluster.stop()


def room(number: int) -> str:
    return f"chat:spread-{number}"


@contextlib.contextmanager
def two_processes(broker: Broker, cores: set[int] | None) -> Iterator[list[Server]]:
    env = {**broker.env, "APP_TOKEN_SECRET": TOKEN_SECRET}
    servers = [project_server(f"project-{n}", cores, **env) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.kill()


class Counter:
    def __init__(self) -> None:
        self.deliveries = 0
        self.counting = False

    def on_event(self, payload: bytes, now: float) -> None:
        if self.counting and PUBLISHED in payload:
            self.deliveries += 1


async def post_event(
    service: HttpConnection, channel: str, text: str, token: str, key: str
) -> None:
    """A service's publish to ``channel``; anything but 201 ends the run."""
    status = await service.post_json(
        f"/api/channels/{channel}/events",
        json.dumps({"data": {"text": text}}).encode(),
        {"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    if status != 201:
        raise RuntimeError(f"POST {channel} answered {status}")


async def open_members(servers: list[Server], load: Load, counter: Counter) -> list[BenchClient]:
    """Members 1 to ``members`` of every room, on the processes in turn, 50 at a time."""
    wanted = [(r, m) for r in range(load.rooms) for m in range(1, load.members + 1)]
    clients: list[BenchClient] = []
    for start in range(0, len(wanted), 50):
        clients += await asyncio.gather(
            *(
                open_subscriber(
                    servers[(r + m) % len(servers)].port, [(room(r), str(m))], counter.on_event
                )
                for r, m in wanted[start : start + 50]
            )
        )
    return clients


async def measure(
    servers: list[Server],
    broker: Broker,
    counter: Counter,
    load: Load,
    run: Callable[[Callable[[], bool]], Awaitable[None]],
    receivers_per_event: int,
    setup: str,
    mode: str,
) -> ThroughputResult:
    """Runs the load (``run(going)`` keeps on while ``going()``), counts over ``load.seconds``
    after a second of warm-up."""

    async def counted() -> tuple[tuple[float, RedisCost, float], tuple[float, RedisCost, float]]:
        await asyncio.sleep(1.0)
        counter.counting = True
        start = (time.monotonic(), broker.cost(), app_cpu(servers))
        await asyncio.sleep(load.seconds)
        counter.counting = False
        return start, (time.monotonic(), broker.cost(), app_cpu(servers))

    window = asyncio.ensure_future(counted())
    await asyncio.gather(window, run(lambda: not window.done()))
    (began, cost_before, cpu_before), (ended, cost_after, cpu_after) = window.result()
    elapsed = ended - began
    deliveries = counter.deliveries
    events = deliveries / receivers_per_event  # each event reaches every one of them
    cost = cost_after - cost_before
    return ThroughputResult(
        setup=setup,
        mode=mode,
        events_per_second=events / elapsed,
        deliveries_per_second=deliveries / elapsed,
        app_cpu_us_per_delivery=(cpu_after - cpu_before) / max(1, deliveries) * 1e6,
        redis_commands_per_event=cost.commands / max(1.0, events),
        redis_cpu_us_per_event=cost.cpu_seconds / max(1.0, events) * 1e6,
        redis_calls_per_event={
            name: calls / max(1.0, events) for name, calls in sorted(cost.calls.items())
        },
    )


def app_cpu(servers: list[Server]) -> float:
    return sum(cpu_seconds(server.pid) for server in servers)


async def fan_out_run(
    servers: list[Server], broker: Broker, load: Load, setup: str
) -> ThroughputResult:
    counter = Counter()
    members = await open_members(servers, load, counter)
    heard: list[asyncio.Queue[None]] = [asyncio.Queue() for _ in range(load.rooms)]
    publishers: list[BenchClient] = []
    for number in range(load.rooms):

        def own_event(payload: bytes, now: float, number: int = number) -> None:
            counter.on_event(payload, now)
            heard[number].put_nowait(None)

        publishers.append(
            await open_subscriber(servers[number % 2].port, [(room(number), "0")], own_event)
        )
    await asyncio.sleep(1.0)
    text = "p" * load.text_size

    async def one_room(number: int, going: Callable[[], bool]) -> None:
        sent = 0
        while going():
            frame = {"type": "publish", "id": f"m{sent}", "channel": room(number)}
            frame["data"] = {"text": text}  # type: ignore[assignment]
            publishers[number].send_text(json.dumps(frame, separators=(",", ":")).encode())
            sent += 1
            try:
                await asyncio.wait_for(heard[number].get(), 5)
            except TimeoutError:
                break

    async def run(going: Callable[[], bool]) -> None:
        await asyncio.gather(*(one_room(n, going) for n in range(load.rooms)))

    try:
        # Each event reaches the room's members and its publisher.
        receivers = load.members + 1
        return await measure(servers, broker, counter, load, run, receivers, setup, "fan-out")
    finally:
        for client in [*members, *publishers]:
            client.close()
        await asyncio.sleep(0.5)


async def http_run(
    servers: list[Server], broker: Broker, load: Load, setup: str, token: str
) -> ThroughputResult:
    counter = Counter()
    members = await open_members(servers, load, counter)
    services = [await HttpConnection.open(servers[n % 2].port) for n in range(load.http_publishers)]
    await asyncio.sleep(1.0)
    text = "p" * load.text_size

    async def one_service(number: int, going: Callable[[], bool]) -> None:
        sent = 0
        while going():
            target = room((number + sent * load.http_publishers) % load.rooms)
            await post_event(services[number], target, text, token, f"{number}-{sent}")
            sent += 1

    async def run(going: Callable[[], bool]) -> None:
        await asyncio.gather(*(one_service(n, going) for n in range(load.http_publishers)))

    try:
        mode = "HTTP publish"
        return await measure(servers, broker, counter, load, run, load.members, setup, mode)
    finally:
        for service in services:
            service.close()
        for client in members:
            client.close()
        await asyncio.sleep(0.5)


async def history_run(
    servers: list[Server], broker: Broker, load: Load, setup: str, token: str
) -> HistoryResult:
    """Redis's memory for ``history_rooms`` rooms of ``history_events`` events each."""
    broker.flush()
    await asyncio.sleep(0.5)
    before = broker.used_memory()
    text = "h" * load.text_size
    services = [await HttpConnection.open(servers[n % 2].port) for n in range(8)]

    async def fill(number: int) -> None:
        for index in range(number, load.history_rooms * load.history_events, len(services)):
            target = f"chat:history-{index % load.history_rooms}"
            await post_event(services[number], target, text, token, f"h{index}")

    try:
        await asyncio.gather(*(fill(n) for n in range(len(services))))
    finally:
        for service in services:
            service.close()
    after = broker.used_memory()
    return HistoryResult(
        setup, load.history_rooms, load.history_events, load.text_size,
        (after - before) / load.history_rooms,
    )  # fmt: skip


async def run(load: Load, cores: set[int] | None, order: list[str]) -> Results:
    results = Results(load)
    token = make_publisher_token()
    brokers = {setup: Broker(setup, cores) for setup in dict.fromkeys(order)}
    try:
        for setup in order:
            broker = brokers[setup]
            with two_processes(broker, cores) as servers:
                for result in (
                    await fan_out_run(servers, broker, load, setup),
                    await http_run(servers, broker, load, setup, token),
                ):
                    results.throughput.append(result)
                    print(line(result), flush=True)
                if not any(h.setup == setup for h in results.history):
                    history = await history_run(servers, broker, load, setup, token)
                    results.history.append(history)
                    print(
                        f"{setup}: {history.redis_bytes_per_room / 1024:.1f} KiB of Redis per "
                        f"room of {history.events_per_room} events",
                        flush=True,
                    )
            broker.flush()
    finally:
        for broker in brokers.values():
            broker.remove()
    return results


def line(result: ThroughputResult) -> str:
    return (
        f"{result.setup:16} {result.mode:13} {result.events_per_second:8.0f} events/s "
        f"{result.deliveries_per_second:9.0f} deliveries/s "
        f"{result.app_cpu_us_per_delivery:6.1f} µs app CPU/delivery "
        f"{result.redis_commands_per_event:5.1f} Redis commands/event "
        f"{result.redis_cpu_us_per_event:6.1f} µs Redis CPU/event"
    )


def median_of(results: Results, setup: str, mode: str, attribute: str) -> float:
    values = [
        getattr(r, attribute) for r in results.throughput if r.setup == setup and r.mode == mode
    ]
    return statistics.median(values) if values else float("nan")


def section(results: Results, command: str) -> str:
    load = results.load
    rows = [
        "| Run | Setup | Load | Events/s | Deliveries/s | µs app CPU per delivery "
        "| Redis commands per event | µs Redis CPU per event |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, r in enumerate(results.throughput, 1):
        rows.append(
            f"| {(number + 1) // 2} | {r.setup} | {r.mode} | {r.events_per_second:,.0f} "
            f"| {r.deliveries_per_second:,.0f} | {r.app_cpu_us_per_delivery:.1f} "
            f"| {r.redis_commands_per_event:.1f} | {r.redis_cpu_us_per_event:.1f} |"
        )
    ratios = []
    for mode in ("fan-out", "HTTP publish"):
        one = median_of(results, ONE, mode, "deliveries_per_second")
        cluster = median_of(results, CLUSTER, mode, "deliveries_per_second")
        ratios.append(f"- {mode}: the Cluster delivers {cluster / one:.2f}× one Redis (medians).")
    calls = []
    for r in results.throughput:
        if r.setup == ONE and r.mode == "fan-out":
            listed = sorted(r.redis_calls_per_event.items(), key=lambda item: -item[1])
            calls = [
                "What Redis runs for one event (calls per placed event, `INFO commandstats`,",
                "the last fan-out run on one Redis; the commands inside a script count too):",
                "",
                ", ".join(f"`{name}` {per:.2f}" for name, per in listed if per >= 0.01) + ".",
            ]
    history = [
        f"- {h.setup}: {h.redis_bytes_per_room / 1024:.1f} KiB per room of {h.events_per_room} "
        f"events of {h.text_size}-character texts ({h.redis_bytes_per_room / h.events_per_room:.0f}"
        " bytes per event, keys and presence included)."
        for h in results.history
    ]
    return "\n".join(
        [
            "# One Redis against a 3-shard Redis Cluster",
            "",
            "Written by the benchmark itself; do not edit by hand. Reproduce with:",
            "",
            "```sh",
            f"{command}   # after npm run build",
            "```",
            "",
            machine(),
            "",
            f"Two app processes share the broker; {load.rooms} chat rooms",
            f"(`chat:spread-N`, spread over the Cluster's slots), {load.members} members in each",
            "on `/ws/realtime`, on both processes. *fan-out*: one member per room publishes over",
            "its connection, the next once it hears its own event (every room at once);",
            f"*HTTP publish*: {load.http_publishers} services `POST` to the rooms in turn, each",
            f"the next once answered. {load.seconds:.0f} s windows after 1 s of warm-up,",
            "setups in turn (ABBAAB). Redis's commands and CPU time are summed over every master",
            "(`INFO stats`, `INFO cpu`). Everything shares the machine's two cores, so the app",
            "processes, not Redis, set the throughput here; what the Cluster changes on this",
            "machine is where Redis's work goes, not how much the app can push.",
            "",
            *rows,
            "",
            *ratios,
            "",
            *calls,
            "",
            "Redis's memory per room of history (`used_memory`, before and after filling",
            f"{results.history[0].rooms if results.history else 0} rooms over HTTP):",
            "",
            *history,
            "",
        ]
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    redis = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    version = next((part[2:] for part in redis if part.startswith("v=")), "?")
    return (
        f"- Machine: {cpu}, {os.cpu_count()} cores, shared by the app processes, Redis and "
        f"the load generator; redis-server {version}, Python {platform.python_version()}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.topologies", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="each run's window")
    parser.add_argument("--rooms", type=int, default=60)
    parser.add_argument("--members", type=int, default=10, help="per room")
    parser.add_argument("--smoke", action="store_true", help="a short run; writes no docs")
    args = parser.parse_args()
    load = Load(rooms=args.rooms, members=args.members, seconds=args.seconds)
    if args.smoke:
        load = Load(rooms=6, members=3, http_publishers=2, seconds=1.0, history_rooms=5)
    order = [ONE, CLUSTER] if args.smoke else [ONE, CLUSTER, CLUSTER, ONE, ONE, CLUSTER]
    results = asyncio.run(run(load, None, order))
    for mode in ("fan-out", "HTTP publish"):
        one = median_of(results, ONE, mode, "deliveries_per_second")
        cluster = median_of(results, CLUSTER, mode, "deliveries_per_second")
        print(f"{mode}: Cluster / one Redis = {cluster / one:.2f}", flush=True)
    if not args.smoke:
        command = "python -m bench.topologies"
        if (args.seconds, args.rooms, args.members) != (8.0, 60, 10):
            command += f" --seconds {args.seconds:g} --rooms {args.rooms} --members {args.members}"
        REPORT.write_text(section(results, command))


if __name__ == "__main__":
    main()
