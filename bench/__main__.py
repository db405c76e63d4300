"""``python -m bench``: every scenario against the project and the guide, interleaved; a report.

Runs on loopback only, in about ten minutes on two cores. Servers are pinned to the first core
and this process, the load generator, to the last, where the machine has more than one.
Writes ``docs/benchmarks.md`` and ``docs/benchmarks.svg`` (``--out`` to write elsewhere).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import uvloop

from bench import report
from bench.channels import (
    TOKEN_SECRET,
    http_fan_out,
    idle_subscribed,
    publisher_token,
    realtime_fan_out,
)
from bench.scenarios import echo, fan_out, idle, recovery, send_floor
from bench.servers import (
    ROOT,
    guide_server,
    node_server,
    project_server,
    send_floor_server,
)
from testkit.processes import RedisServer


def pin_cores() -> tuple[set[int] | None, str]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, f"{len(cores)} core: server and load generator share it"
    os.sched_setaffinity(0, {cores[-1]})
    return {cores[0]}, f"servers on core {cores[0]}, load generator on core {cores[-1]}"


def raise_file_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Linux {platform.release()}"


def versions() -> str:
    names = ["fastapi", "starlette", "uvicorn", "websockets", "httptools", "uvloop", "redis"]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    ws = json.loads((ROOT / "node_modules" / "ws" / "package.json").read_text())["version"]
    return (
        ", ".join(f"{name} {version(name)}" for name in names)
        + f", Python {platform.python_version()}, Node {node.lstrip('v')} with ws {ws}"
    )


METRICS_OFF = {"APP_METRICS": "false"}


async def run(args: argparse.Namespace, server_cores: set[int] | None) -> report.Results:
    results = report.Results()
    seconds = args.seconds

    # Echo: every server up, measured in turn, forwards, backwards, forwards again, so that
    # drift hits all alike and the median of three is a real median. "project" has every
    # feature on; "project-nometrics" only lacks metrics.
    servers = [
        project_server("project", server_cores).start(),
        project_server("project-nometrics", server_cores, **METRICS_OFF).start(),
        guide_server(server_cores).start(),
        node_server(server_cores).start(),
    ]
    try:
        for connections in (1, 16, 128):
            for deflate in (False, True):
                order = [s for s in servers if not (deflate and s.name == "project-nometrics")]
                if (connections + deflate) % 2:
                    order.reverse()
                for server in [*order, *reversed(order), *order]:
                    measured = await echo(
                        server, connections, offer_deflate=deflate, seconds=seconds
                    )
                    results.add_echo(server.name, connections, deflate, measured)
                    print(report.echo_line(server.name, connections, deflate, measured), flush=True)
    finally:
        for server in servers:
            server.stop()

    # Idle connections: fresh processes, so that earlier allocations do not hide the growth.
    for connections in (1000, 10_000):
        for server in (
            project_server("project", server_cores),
            guide_server(server_cores),
            node_server(server_cores),
        ):
            server.start()
            try:
                memory = await idle(server, connections)
            finally:
                server.stop()
            results.idle.append((server.name, memory))
            print(report.idle_line(server.name, memory), flush=True)

    # Idle on the multiplexed endpoint: each connection following 5 channels against 1, fresh
    # processes in turn (1, 5, 5, 1), so that drift hits both alike.
    for channels in (1, 5, 5, 1):
        server = project_server("project", server_cores).start()
        try:
            subscribed = await idle_subscribed(server, 10_000, channels)
        finally:
            server.kill()
        results.idle_channels.append(subscribed)
        print(report.idle_channels_line(subscribed), flush=True)

    # Broadcast in one process: one message at a time, each timed until every receiver has it;
    # many messages, so that the tail (p99) shows.
    for receivers, messages in (
        (1000, args.fan_out_messages),
        (10_000, args.fan_out_messages // 4),
    ):
        for server in (
            project_server("project", server_cores),
            project_server("project-nometrics", server_cores, **METRICS_OFF),
            guide_server(server_cores),
            node_server(server_cores),
        ):
            if receivers > 1000 and server.name == "project-nometrics":
                continue
            server.start()
            try:
                result = await fan_out(
                    [server], receivers, messages=messages, wait=10, close_clients=False
                )
            finally:
                server.kill()
            results.fan_out.append((server.name, "one process", result))
            print(report.fan_out_line(server.name, "one process", result), flush=True)

    # One publish to 1,000 subscribers of a chat room on the multiplexed endpoint, against the
    # guide's chat broadcast to 1,000 on /ws/{client_id}: in turn, three of each (ABBAAB).
    chat, multiplexed = "/ws/{client_id}", "/ws/realtime"
    for endpoint in (chat, multiplexed, multiplexed, chat, chat, multiplexed):
        server = project_server("project", server_cores).start()
        try:
            if endpoint == multiplexed:
                result = await realtime_fan_out(
                    [server], 1000, messages=args.fan_out_messages, wait=10, close_clients=False
                )
            else:
                result = await fan_out(
                    [server], 1000, messages=args.fan_out_messages, wait=10, close_clients=False
                )
        finally:
            server.kill()
        results.multiplexed.append((endpoint, result))
        print(report.fan_out_line("project", endpoint, result), flush=True)

    # The floor under any broadcast: one plain send() per socket, on the same core.
    for connections in (1000, 10_000):
        server = send_floor_server(server_cores, connections).start()
        try:
            floor = await send_floor(server, connections)
        finally:
            server.kill()
        results.send_floor.append(floor)
        print(report.send_floor_line(floor), flush=True)

    # Across two processes through Redis, history on (the guide cannot: its clients live in one).
    redis = RedisServer(cores=server_cores).start()
    try:
        pair = [
            project_server(f"project-{n}", server_cores, APP_REDIS_URL=redis.url) for n in (1, 2)
        ]
        for server in pair:
            server.start()
        try:
            result = await fan_out(
                pair, 1000, messages=args.fan_out_messages, wait=10, close_clients=False
            )
        finally:
            for server in pair:
                server.kill()
        results.fan_out.append(("project", "two processes + Redis", result))
        print(report.fan_out_line("project", "two processes + Redis", result), flush=True)

        # A service's HTTP publish to 1,000 subscribers of announcements on /ws/realtime,
        # spread over two processes sharing Redis, against one process: two of each, in turn
        # (ABBA).
        token = publisher_token()
        two, one = "two processes + Redis", "one process"
        for setup in (two, one, one, two):
            env = {"APP_TOKEN_SECRET": TOKEN_SECRET}
            if setup == one:
                group = [project_server("project", server_cores, **env)]
            else:
                group = [
                    project_server(f"project-{n}", server_cores, APP_REDIS_URL=redis.url, **env)
                    for n in (1, 2)
                ]
            for server in group:
                server.start()
            try:
                published = await http_fan_out(
                    group, 1000, token, messages=args.fan_out_messages, wait=10, close_clients=False
                )
            finally:
                for server in group:
                    server.kill()
            results.http_fan_out.append((setup, published))
            print(report.http_fan_out_line(setup, published), flush=True)

        # Recovering 1,000 missed messages after a reconnect: from memory, and from Redis.
        history = {"APP_ROOM_HISTORY_EVENTS": "1100"}
        for setup, env in (
            ("one process", history),
            ("through Redis", {**history, "APP_REDIS_URL": redis.url}),
        ):
            server = project_server("project", server_cores, **env).start()
            try:
                recovered = await recovery(server, missed=1000)
            finally:
                server.stop()
            results.recovery.append((setup, recovered))
            print(report.recovery_line(setup, recovered), flush=True)
    finally:
        redis.remove()

    # A client that never reads, among 50 that do, while 150 messages of 60 KB go out.
    for server in (project_server("project", server_cores), guide_server(server_cores)):
        server.start()
        try:
            stuck = await fan_out(
                [server], 50, messages=150, size=60_000, stuck=True, spacing=0.01, wait=5.0
            )
        finally:
            server.stop()
        results.stuck.append((server.name, stuck))
        print(report.fan_out_line(server.name, "one never reads", stuck), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per echo run")
    parser.add_argument(
        "--fan-out-messages",
        type=int,
        default=200,
        help="messages per broadcast run (÷4 at 10,000)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write the report")
    args = parser.parse_args()

    server_cores, pinning = pin_cores()
    file_limit = raise_file_limit(30_000)
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("note: no frontend build; the project serves the API only", file=sys.stderr)
    started = time.monotonic()
    results = uvloop.run(run(args, server_cores))
    minutes = (time.monotonic() - started) / 60
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    context = report.Context(
        command="python -m bench" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        machine=machine(),
        pinning=pinning,
        versions=versions(),
        commit=commit or "unknown",
        file_limit=file_limit,
        minutes=minutes,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks.md").write_text(report.markdown(results, context))
    (args.out / "benchmarks.svg").write_text(report.svg(results, context))
    print(report.summary(results))
    print(
        f"wrote {args.out / 'benchmarks.md'} and {args.out / 'benchmarks.svg'} in {minutes:.1f} min"
    )


if __name__ == "__main__":
    main()
