"""Results as printed lines, a markdown report with ratios to the guide, and an SVG chart."""

import statistics
from dataclasses import dataclass, field
from html import escape

from bench.channels import ROOM_SIZE, HttpFanOutResult, IdleChannelsResult
from bench.scenarios import (
    EchoResult,
    FanOutResult,
    IdleResult,
    RecoveryResult,
    SendFloorResult,
)

EchoKey = tuple[str, int, bool]  # server, connections, offers permessage-deflate


@dataclass
class Results:
    echo: dict[EchoKey, list[EchoResult]] = field(default_factory=dict)
    idle: list[tuple[str, IdleResult]] = field(default_factory=list)
    fan_out: list[tuple[str, str, FanOutResult]] = field(default_factory=list)
    stuck: list[tuple[str, FanOutResult]] = field(default_factory=list)
    recovery: list[tuple[str, RecoveryResult]] = field(default_factory=list)
    send_floor: list[SendFloorResult] = field(default_factory=list)
    # WS /ws/realtime: idle connections following 1 or 5 channels; the fan-out of a chat room
    # on each endpoint ("/ws/{client_id}" or "/ws/realtime"), in the order run; a service's
    # HTTP publish, by setup.
    idle_channels: list[IdleChannelsResult] = field(default_factory=list)
    multiplexed: list[tuple[str, FanOutResult]] = field(default_factory=list)
    http_fan_out: list[tuple[str, HttpFanOutResult]] = field(default_factory=list)

    def add_echo(self, server: str, connections: int, deflate: bool, result: EchoResult) -> None:
        self.echo.setdefault((server, connections, deflate), []).append(result)

    def echo_median(self, server: str, connections: int, deflate: bool) -> EchoResult:
        """The run with the median throughput of the repeats."""
        runs = sorted(
            self.echo[(server, connections, deflate)], key=lambda r: r.messages_per_second
        )
        return runs[len(runs) // 2]


@dataclass
class Context:
    command: str
    machine: str
    pinning: str
    versions: str
    commit: str
    file_limit: int
    minutes: float


def _client(deflate: bool) -> str:
    return "browser-like (offers deflate)" if deflate else "plain"


def echo_line(server: str, connections: int, deflate: bool, r: EchoResult) -> str:
    return (
        f"echo {server:17} {connections:4} conn {_client(deflate):30} "
        f"{r.messages_per_second:9.0f} msg/s p50 {r.p50_ms:6.2f} ms p99 {r.p99_ms:6.2f} ms  "
        f"server {r.server_cpu_us_per_message:5.1f} us/msg "
        f"({r.server_cpu_percent:3.0f}% CPU), load generator {r.client_cpu_percent:3.0f}% CPU"
    )


def idle_line(server: str, r: IdleResult) -> str:
    return (
        f"idle {server:17} {r.connections:6} conn {r.kib_per_connection:6.1f} KiB each "
        f"(RSS {r.server_rss_mib:.0f} MiB)"
    )


def idle_channels_line(r: IdleChannelsResult) -> str:
    return (
        f"idle /ws/realtime {r.connections:6} conn, {r.channels} channels each: "
        f"{r.kib_per_connection:6.1f} KiB each (RSS {r.server_rss_mib:.0f} MiB, "
        f"opened in {r.seconds_to_open:.0f} s)"
    )


def http_fan_out_line(setup: str, r: HttpFanOutResult) -> str:
    return (
        fan_out_line("project", f"HTTP, {setup}", r)
        + f"; 201 after p50 {r.answer_p50_ms:.2f} ms p99 {r.answer_p99_ms:.2f} ms"
    )


def recovery_line(setup: str, r: RecoveryResult) -> str:
    return (
        f"recovery  {setup:<22} {r.missed:>5} missed  median {r.median_ms:7.1f} ms  "
        f"worst {r.worst_ms:7.1f} ms  {'recovered' if r.recovered else 'NOT RECOVERED'}"
    )


def send_floor_line(r: SendFloorResult) -> str:
    return (
        f"send() floor {r.connections:6} sockets: {r.median_ms:7.1f} ms per round, "
        f"{r.us_per_send:.1f} us per send"
    )


def fan_out_line(server: str, setup: str, r: FanOutResult) -> str:
    return (
        f"fan-out {server:17} {setup:22} {r.receivers:5} clients "
        f"p50 {r.p50_ms:7.2f} ms p99 {r.p99_ms:7.2f} ms "
        f"last {r.last_median_ms:7.2f} ms delivered {r.delivered:.0%} "
        f"server {r.server_cpu_us_per_delivery:5.1f} us CPU/delivery"
    )


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "—"


ECHO_SERVERS = ("project", "project-nometrics", "guide", "node-ws")


def _has(results: Results, server: str, connections: int, deflate: bool) -> bool:
    return (server, connections, deflate) in results.echo


def _fan(results: Results, server: str, setup: str, receivers: int) -> FanOutResult | None:
    return next(
        (
            r
            for name, where, r in results.fan_out
            if name == server and where == setup and r.receivers == receivers
        ),
        None,
    )


def markdown(results: Results, context: Context) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by the benchmark itself; do not edit by hand. Reproduce with:",
        "",
        "```sh",
        "./scripts/bench.sh   # builds the SPA, then runs: " + context.command,
        "```",
        "",
        f"- Machine: {context.machine}; {context.pinning}.",
        f"- Versions: {context.versions}; commit {context.commit}.",
        f"- Run time: {context.minutes:.1f} minutes; file-descriptor limit {context.file_limit}.",
        "- **project**: `python -m app` with every feature on (origin check, credentials, size",
        "  and rate limits, metrics, room history), except the per-connection rate, lifted because",
        "  a closed loop on one connection would only measure that cap (its code still runs on",
        "  every message). **project-nometrics**: the same with `APP_METRICS=false`, to show what",
        "  metrics cost. **guide**: the guide's code (`bench/guide_app.py`) under plain `uvicorn`",
        "  with its defaults. **node-ws**: Node's `ws` as its documentation writes a server",
        "  (`bench/node_ws_server.mjs`), the reference a user might pick instead. Ratios are to",
        "  the guide, measured in the same run, interleaved (every server in turn, forwards,",
        "  backwards, forwards again; the median of the three runs is shown).",
        "- Load generator: `bench/wsclient.py`, a minimal asyncio client on uvloop with",
        "  prebuilt frames; its CPU use is shown next to the servers': below 100%, it was not",
        "  the bottleneck.",
        "",
        "![Benchmarks](benchmarks.svg)",
        "",
        "## Echo round trips (32-byte messages, closed loop)",
        "",
        "| Connections | Client | Server | msg/s | ÷ guide | p50 / p99 ms | µs CPU/msg "
        "| load generator CPU |",
        "| ---: | --- | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for connections in (1, 16, 128):
        for deflate in (False, True):
            theirs = results.echo_median("guide", connections, deflate)
            for server in ECHO_SERVERS:
                if not _has(results, server, connections, deflate):
                    continue
                r = results.echo_median(server, connections, deflate)
                lines.append(
                    f"| {connections} | {_client(deflate)} | {server} "
                    f"| {r.messages_per_second:,.0f} "
                    f"| {_ratio(r.messages_per_second, theirs.messages_per_second)} "
                    f"| {r.p50_ms:.2f} / {r.p99_ms:.2f} | {r.server_cpu_us_per_message:.1f} "
                    f"| {r.client_cpu_percent:.0f}% |"
                )
    lines += [
        "",
        "With a browser-like client, the guide's uvicorn negotiates permessage-deflate (on by",
        "default in uvicorn); the project leaves it off unless `APP_WS_PERMESSAGE_DEFLATE=true`,",
        "and so does `ws`.",
        "",
        "## Idle connections (memory per open WebSocket)",
        "",
        "| Connections | Server | KiB each | ÷ guide |",
        "| ---: | --- | ---: | ---: |",
    ]
    idle = {(name, r.connections): r for name, r in results.idle}
    for connections in sorted({r.connections for _, r in results.idle}):
        guide_kib = idle[("guide", connections)].kib_per_connection
        for server in ("project", "guide", "node-ws"):
            if (server, connections) in idle:
                kib = idle[(server, connections)].kib_per_connection
                lines.append(
                    f"| {connections:,} | {server} | {kib:.1f} | {_ratio(kib, guide_kib)} |"
                )
    lines += [
        "",
        "## Broadcast: one message at a time to every client in the room",
        "",
        "One sender in the guide's chat; each message is timed from sending until each receiver",
        "has it, many messages in a row, so that p99 is the tail; *last* is the median over",
        "messages of the time until the last receiver has it; *µs CPU* is the servers' CPU",
        "time per delivery while the messages went out (it moves far less than the latencies",
        "when other work shares the machine).",
        "",
        "| Setup | Server | Receivers | Messages | p50 ms | p99 ms | last ms | delivered "
        "| µs CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, setup, fan in results.fan_out:
        lines.append(
            f"| {setup} | {name} | {fan.receivers:,} | {fan.messages} | {fan.p50_ms:.2f} "
            f"| {fan.p99_ms:.2f} | {fan.last_median_ms:.2f} | {fan.delivered:.0%} "
            f"| {fan.server_cpu_us_per_delivery:.1f} |"
        )
    lines += [
        "",
        "The floor under any of these: `bench/send_floor.py`, pinned to the same core, writes",
        "one 40-byte frame to each socket in a plain loop of `send()` calls, nothing else. No",
        "server that writes one frame per connection broadcasts faster on this machine.",
        "",
        "| Sockets | one round, ms (median of 30) | µs per send() |",
        "| ---: | ---: | ---: |",
    ]
    for floor in results.send_floor:
        lines.append(f"| {floor.connections:,} | {floor.median_ms:.1f} | {floor.us_per_send:.1f} |")
    lines += [
        "",
        "## Broadcast with one client that never reads",
        "",
        "50 clients read; one more never does. The sender sends 150 messages of 60 KB, one every",
        "10 ms. In the project, the stuck client's messages wait in its own bounded outbox (it",
        "is closed with 1013 once that is full, and cut off if it takes no close frame); the",
        "guide's `broadcast` awaits each client in turn.",
        "",
        "| Server | p50 ms | p99 ms | delivered to the 50 readers |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, stuck in results.stuck:
        lines.append(
            f"| {name} | {stuck.p50_ms:.2f} | {stuck.p99_ms:.2f} | {stuck.delivered:.0%} |"
        )
    lines += [
        "",
        "## Recovery after a reconnect",
        "",
        "A realtime.json.v1 member leaves, messages are said, it reconnects with its position:",
        "the time from its reconnect until it has every missed message (the `sync` that ends",
        "them), five rounds. The guide has no history to recover from.",
        "",
        "| Setup | Missed | median ms | worst ms | all recovered |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for setup, recovered in results.recovery:
        lines.append(
            f"| {setup} | {recovered.missed:,} | {recovered.median_ms:.1f} "
            f"| {recovered.worst_ms:.1f} | {'yes' if recovered.recovered else 'no'} |"
        )
    lines += channels_section(results)
    lines += ["", "## Goals", "", *goals(results), ""]
    return "\n".join(lines)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _spread(ratios: list[float]) -> str:
    if len(ratios) < 2:
        return ""
    return f" (run by run: {min(ratios):.2f}× to {max(ratios):.2f}×)"


def idle_channels_ratio(results: Results) -> tuple[float, float, float, list[float]]:
    """KiB per connection with 1 channel and with 5 (medians), their ratio, and the ratio of
    each run of 5 to the run of 1 next to it."""
    one = [r.kib_per_connection for r in results.idle_channels if r.channels == 1]
    five = [r.kib_per_connection for r in results.idle_channels if r.channels == 5]
    single, multiple = _median(one), _median(five)
    # Run in the order 1, 5, 5, 1: each 5 beside its 1.
    pairs = [b / a for a, b in zip(one, five, strict=False)]
    return single, multiple, multiple / single if one and five else float("nan"), pairs


def multiplexed_ratio(results: Results) -> tuple[float, float, float, list[float]]:
    """Median p99 of the chat's broadcast and of the multiplexed fan-out, the ratio of the
    medians, and the ratio run by run (each multiplexed run to the chat run beside it)."""
    chat = [r.p99_ms for endpoint, r in results.multiplexed if endpoint == "/ws/{client_id}"]
    realtime = [r.p99_ms for endpoint, r in results.multiplexed if endpoint == "/ws/realtime"]
    ours, theirs = _median(realtime), _median(chat)
    pairs = [b / a for a, b in zip(chat, realtime, strict=False)]
    return theirs, ours, ours / theirs if chat and realtime else float("nan"), pairs


def http_ratio(results: Results) -> tuple[float, float, float, list[float]]:
    """Median end-to-end p99 of the HTTP publish through Redis, and in one process; ratio."""
    two = [r.p99_ms for setup, r in results.http_fan_out if setup != "one process"]
    one = [r.p99_ms for setup, r in results.http_fan_out if setup == "one process"]
    pairs = [a / b for a, b in zip(two, one, strict=False)]
    return _median(two), _median(one), _median(two) / _median(one) if one else float("nan"), pairs


def channels_section(results: Results) -> list[str]:
    if not (results.idle_channels or results.multiplexed or results.http_fan_out):
        return []
    lines = [
        "",
        "## Channels over one connection (WS /ws/realtime)",
        "",
        "Every figure here is from the project (`python -m app`, every feature on) against",
        "another run of it in the same invocation, in turn; each run a fresh process.",
        "",
        "**Idle connections following 5 channels against 1.** Each connection opens",
        "`/ws/realtime` and follows `announcements` (1 channel), or `announcements` and 4 chat",
        f"rooms as a member (5 channels; each room has {ROOM_SIZE} members, so each join is an",
        "event in its room's history and a line in its presence); measured once every `sync`",
        "is in and the presence lists went out: the server's RSS growth per connection.",
        "",
        "| Run | Connections | Channels each | KiB each | RSS MiB | opened in s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, memory in enumerate(results.idle_channels, 1):
        lines.append(
            f"| {number} | {memory.connections:,} | {memory.channels} "
            f"| {memory.kib_per_connection:.1f} | {memory.server_rss_mib:.0f} "
            f"| {memory.seconds_to_open:.0f} |"
        )
    receivers = f"{results.multiplexed[0][1].receivers:,}" if results.multiplexed else "1,000"
    lines += [
        "",
        f"**One publish to {receivers} subscribers.** A chat room: member 0 publishes on",
        f"`/ws/realtime` (`publish`) and {receivers} members on `/ws/realtime` hear each event,",
        f"against the guide's chat broadcast (one sender and {receivers} receivers on",
        "`/ws/{client_id}`, as in the broadcast above), in turn (ABBAAB), each run beside one",
        "of the other.",
        "The same channel and the same way in; what differs is the endpoint and what it sends",
        "(a generic `event` with the channel's position, about 190 bytes, against the guide's",
        "45-byte line). One message at a time, as above.",
        "",
        "| Run | Endpoint | Receivers | Messages | p50 ms | p99 ms | last ms | delivered "
        "| µs CPU |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, (endpoint, fan) in enumerate(results.multiplexed, 1):
        lines.append(
            f"| {number} | `{endpoint}` | {fan.receivers:,} | {fan.messages} | {fan.p50_ms:.2f} "
            f"| {fan.p99_ms:.2f} | {fan.last_median_ms:.2f} | {fan.delivered:.0%} "
            f"| {fan.server_cpu_us_per_delivery:.1f} |"
        )
    http_receivers = (
        f"{results.http_fan_out[0][1].receivers:,}" if results.http_fan_out else "1,000"
    )
    lines += [
        "",
        "**A service's HTTP publish.** `POST /api/channels/announcements/events` with a",
        "publisher's token and an `Idempotency-Key`, on one kept-alive connection, to the first",
        f"process; {http_receivers} subscribers of `announcements` on `/ws/realtime`, spread over",
        "the processes; each event timed from the request until each subscriber has it (*201",
        "ms*: until the publisher has its answer); two processes sharing Redis against one",
        "process, in turn (ABBA).",
        "",
        "| Run | Setup | Receivers | Messages | p50 ms | p99 ms | last ms | delivered "
        "| 201 p50 / p99 ms |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for number, (setup, published) in enumerate(results.http_fan_out, 1):
        lines.append(
            f"| {number} | {setup} | {published.receivers:,} | {published.messages} "
            f"| {published.p50_ms:.2f} | {published.p99_ms:.2f} "
            f"| {published.last_median_ms:.2f} | {published.delivered:.0%} "
            f"| {published.answer_p50_ms:.2f} / {published.answer_p99_ms:.2f} |"
        )
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def goals(results: Results) -> list[str]:
    """Each goal of the performance issue, met or missed, by how much."""
    out = []

    def ratios(server: str, deflate: bool) -> list[float]:
        return [
            results.echo_median(server, c, deflate).messages_per_second
            / results.echo_median("guide", c, deflate).messages_per_second
            for c in (1, 16, 128)
            if _has(results, server, c, deflate)
        ]

    plain = ratios("project", False)
    out.append(
        f"- Echo, every feature on, plain clients: {', '.join(f'{r:.2f}×' for r in plain)} "
        f"the guide at 1, 16, 128 connections (goal ≥ 1.0×): {_met(min(plain) >= 1.0)}."
    )
    browser = ratios("project", True)
    out.append(
        f"- Echo, browser-like clients: {', '.join(f'{r:.2f}×' for r in browser)} (goal ≥ 1.2×): "
        f"{_met(min(browser) >= 1.2)}."
    )
    if all(_has(results, "node-ws", c, False) for c in (1, 16, 128)):
        node = ratios("node-ws", False)
        out.append(
            f"- For reference, Node's ws: {', '.join(f'{r:.2f}×' for r in node)} the guide on "
            "plain echo."
        )
    if all(_has(results, "project-nometrics", c, False) for c in (1, 16, 128)):
        cost = [
            results.echo_median("project", c, False).messages_per_second
            / results.echo_median("project-nometrics", c, False).messages_per_second
            for c in (1, 16, 128)
        ]
        out.append(
            f"- Metrics on ÷ off, echo: {', '.join(f'{r:.2f}×' for r in cost)} "
            "(within the run-to-run noise when near 1)."
        )
    tenk = {name: r for name, r in results.idle if r.connections == 10_000}
    if "project" in tenk and "guide" in tenk:
        ratio = tenk["project"].kib_per_connection / tenk["guide"].kib_per_connection
        out.append(
            f"- 10,000 idle connections: {tenk['project'].kib_per_connection:.1f} KiB each, "
            f"{ratio:.2f}× the guide (goal ≤ 1.0×): {_met(ratio <= 1.0)}."
        )
    ours, theirs = (
        _fan(results, "project", "one process", 1000),
        _fan(results, "guide", "one process", 1000),
    )
    if ours and theirs:
        ratio = ours.p99_ms / theirs.p99_ms
        out.append(
            f"- Broadcast to 1,000: p99 {ours.p99_ms:.1f} ms, {ratio:.2f}× the guide's "
            f"{theirs.p99_ms:.1f} ms (goal ≤ 0.5×): {_met(ratio <= 0.5)}."
        )
    off = _fan(results, "project-nometrics", "one process", 1000)
    if ours and off:
        out.append(f"- Metrics on ÷ off, broadcast to 1,000: p99 {ours.p99_ms / off.p99_ms:.2f}×.")
    big = _fan(results, "project", "one process", 10_000)
    if big:
        out.append(
            f"- Broadcast to 10,000 in one process: p99 {big.p99_ms:.1f} ms (goal < 100 ms): "
            f"{_met(big.p99_ms < 100)}."
        )
    floors = {floor.connections: floor for floor in results.send_floor}
    if 10_000 in floors:
        out.append(
            f"- The floor: 10,000 plain send() calls take {floors[10_000].median_ms:.1f} ms on the "
            f"server's core ({floors[10_000].us_per_send:.1f} µs each); 1,000, "
            f"{floors.get(1000, floors[10_000]).median_ms:.1f} ms."
        )
    node_big = _fan(results, "node-ws", "one process", 10_000)
    guide_big = _fan(results, "guide", "one process", 10_000)
    if big and node_big and guide_big:
        out.append(
            f"- For reference at 10,000: the guide p99 {guide_big.p99_ms:.1f} ms, Node's ws "
            f"{node_big.p99_ms:.1f} ms."
        )
    redis = _fan(results, "project", "two processes + Redis", 1000)
    if ours and redis:
        ratio = redis.p99_ms / ours.p99_ms
        out.append(
            f"- Through Redis with history, two processes: p99 {ratio:.2f}× one process at 1,000 "
            f"(goal ≤ 1.5×): {_met(ratio <= 1.5)}."
        )
    stuck = dict(results.stuck)
    if "project" in stuck and "guide" in stuck:
        mine, guide = stuck["project"], stuck["guide"]
        out.append(
            f"- One client that never reads: the project delivered {mine.delivered:.0%} "
            f"to the others (p99 {mine.p99_ms:.1f} ms), the guide {guide.delivered:.0%}."
        )
    for setup, recovered in results.recovery:
        out.append(
            f"- Recovering {recovered.missed:,} missed messages ({setup}): median "
            f"{recovered.median_ms:.0f} ms."
        )
    out += channels_goals(results)
    return out


def _by(ratio: float, goal: float) -> str:
    """Met, or missed by how much."""
    if ratio <= goal:
        return "met"
    return f"missed by {(ratio / goal - 1) * 100:.0f}%"


def channels_goals(results: Results) -> list[str]:
    out = []
    if results.idle_channels:
        single, multiple, ratio, pairs = idle_channels_ratio(results)
        connections = results.idle_channels[0].connections
        out.append(
            f"- {connections:,} idle connections on /ws/realtime following 5 channels: "
            f"{multiple:.1f} KiB each against {single:.1f} with 1, {ratio:.2f}×{_spread(pairs)} "
            f"(goal ≤ 1.2×): {_by(ratio, 1.2)}."
        )
    if results.multiplexed:
        chat, realtime, ratio, pairs = multiplexed_ratio(results)
        receivers = f"{results.multiplexed[0][1].receivers:,}"
        out.append(
            f"- One publish to {receivers} subscribers on /ws/realtime: p99 {realtime:.1f} ms "
            f"against the chat's broadcast to {receivers} on /ws/{{client_id}} {chat:.1f} ms "
            "(medians), "
            f"{ratio:.2f}×{_spread(pairs)} (goal ≤ 1.0×, no worse): {_by(ratio, 1.0)}."
        )
    if results.http_fan_out:
        two, one, ratio, pairs = http_ratio(results)
        out.append(
            f"- HTTP publish to {results.http_fan_out[0][1].receivers:,} subscribers across two "
            "processes through Redis: "
            f"end-to-end p99 {two:.1f} ms (median of runs); in one process {one:.1f} ms, "
            f"{ratio:.2f}×{_spread(pairs)} (the issue sets no goal)."
        )
    return out


def summary(results: Results) -> str:
    return "\n".join(["", "Goals:", *goals(results)])


SVG_SERIES = (
    ("project", "#2b7a4b", "project (python -m app, every feature on)"),
    ("guide", "#9aa5b1", "guide under plain uvicorn"),
    ("node-ws", "#6b7fd7", "Node's ws"),
)


def svg(results: Results, context: Context) -> str:
    """Echo throughput as grouped bars: project, guide and Node's ws for each client mix."""
    groups = [(c, d) for c in (1, 16, 128) for d in (False, True)]
    series = [name for name, _, _ in SVG_SERIES if _has(results, name, 1, False)]
    values = [
        [results.echo_median(name, c, d).messages_per_second for name in series] for c, d in groups
    ]
    top = max(max(row) for row in values) * 1.15
    width, height, left, bottom, plot_top = 820, 410, 70, 300, 50
    plot_height = bottom - plot_top
    group_width = (width - left - 20) / len(groups)
    bar = group_width * 0.8 / len(series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        'aria-labelledby="chart-title">',
        '<title id="chart-title">Echo round trips per second: the project beside the guide '
        "under plain uvicorn and Node's ws, for 1, 16 and 128 connections</title>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Echo round trips, messages/s '
        "(32 bytes, closed loop); the ratio is project ÷ guide</text>",
        f'<text x="{left}" y="40" fill="#555">'
        f"{escape(context.machine)}; {escape(context.pinning)}</text>",
    ]
    for step in range(5):
        value = top * step / 4
        y = bottom - plot_height * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value / 1000:.0f}k</text>'
        )
    colours = {name: colour for name, colour, _ in SVG_SERIES}
    for index, ((connections, deflate), row) in enumerate(zip(groups, values, strict=True)):
        x = left + index * group_width + group_width * 0.1
        for position, (name, value) in enumerate(zip(series, row, strict=True)):
            h = plot_height * value / top
            parts.append(
                f'<rect x="{x + position * bar:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colours[name]}"/>'
            )
        middle = x + bar * len(series) / 2
        ratio = row[0] / row[1]
        parts.append(
            f'<text x="{middle:.1f}" y="{bottom - plot_height * max(row) / top - 6:.1f}" '
            f'text-anchor="middle" font-weight="bold">{ratio:.2f}×</text>'
        )
        label = f"{connections} conn" + (", deflate offered" if deflate else "")
        parts.append(
            f'<text x="{middle:.1f}" y="{bottom + 18}" text-anchor="middle">{label}</text>'
        )
    legend_y = bottom + 50
    for position, (name, colour, text) in enumerate(SVG_SERIES):
        if name not in series:
            continue
        x = left + position * 260
        parts += [
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>',
            f'<text x="{x + 18}" y="{legend_y}">{escape(text)}</text>',
        ]
    parts += [
        f'<text x="{left}" y="{legend_y + 22}" fill="#555">{escape(context.command)} · commit '
        f"{escape(context.commit)}</text>",
        f'<text x="{left}" y="{legend_y + 40}" fill="#555">{escape(context.versions)}</text>',
        "</svg>",
    ]
    return "\n".join(parts)
