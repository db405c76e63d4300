"""Results as printed lines, a markdown report with ratios to the guide, and an SVG chart."""

from dataclasses import dataclass, field
from html import escape

from bench.scenarios import EchoResult, FanOutResult, IdleResult, RecoveryResult

EchoKey = tuple[str, int, bool]  # server, connections, offers permessage-deflate


@dataclass
class Results:
    echo: dict[EchoKey, list[EchoResult]] = field(default_factory=dict)
    idle: list[tuple[str, IdleResult]] = field(default_factory=list)
    fan_out: list[tuple[str, str, FanOutResult]] = field(default_factory=list)
    stuck: list[tuple[str, FanOutResult]] = field(default_factory=list)
    recovery: list[tuple[str, RecoveryResult]] = field(default_factory=list)

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
        f"echo {server:8} {connections:4} conn {_client(deflate):30} "
        f"{r.messages_per_second:9.0f} msg/s p50 {r.p50_ms:6.2f} ms p99 {r.p99_ms:6.2f} ms  "
        f"server {r.server_cpu_us_per_message:5.1f} us/msg "
        f"({r.server_cpu_percent:3.0f}% CPU), load generator {r.client_cpu_percent:3.0f}% CPU"
    )


def idle_line(server: str, r: IdleResult) -> str:
    return (
        f"idle {server:8} {r.connections:6} conn {r.kib_per_connection:6.1f} KiB each "
        f"(RSS {r.server_rss_mib:.0f} MiB)"
    )


def recovery_line(setup: str, r: RecoveryResult) -> str:
    return (
        f"recovery  {setup:<22} {r.missed:>5} missed  median {r.median_ms:7.1f} ms  "
        f"worst {r.worst_ms:7.1f} ms  {'recovered' if r.recovered else 'NOT RECOVERED'}"
    )


def fan_out_line(server: str, setup: str, r: FanOutResult) -> str:
    return (
        f"fan-out {server:8} {setup:22} {r.receivers:5} clients "
        f"p50 {r.p50_ms:7.2f} ms p99 {r.p99_ms:7.2f} ms "
        f"last {r.last_median_ms:7.2f} ms delivered {r.delivered:.0%}"
    )


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "—"


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
        "- **project**: `python -m app` with its defaults, except the per-connection rate limit,",
        "  lifted because a closed loop on one connection would only measure that cap (its code",
        "  still runs on every message). **guide**: the guide's code (`bench/guide_app.py`) under",
        "  plain `uvicorn` with its defaults. Ratios are project ÷ guide, measured in the same",
        "  run, interleaved (project, guide, guide, project; the median of the two is shown).",
        "- Load generator: `bench/wsclient.py`, a minimal asyncio client on uvloop with",
        "  prebuilt frames; its CPU use is shown next to the server's: below 100%, it was not",
        "  the bottleneck.",
        "",
        "![Benchmarks](benchmarks.svg)",
        "",
        "## Echo round trips (32-byte messages, closed loop)",
        "",
        "| Connections | Client | project msg/s | guide msg/s | ratio "
        "| project p50 / p99 ms | guide p50 / p99 ms "
        "| project µs CPU/msg | guide µs CPU/msg | load generator CPU |",
        "| ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for connections in (1, 16, 128):
        for deflate in (False, True):
            ours = results.echo_median("project", connections, deflate)
            theirs = results.echo_median("guide", connections, deflate)
            lines.append(
                f"| {connections} | {_client(deflate)} | {ours.messages_per_second:,.0f} "
                f"| {theirs.messages_per_second:,.0f} "
                f"| {_ratio(ours.messages_per_second, theirs.messages_per_second)} "
                f"| {ours.p50_ms:.2f} / {ours.p99_ms:.2f} "
                f"| {theirs.p50_ms:.2f} / {theirs.p99_ms:.2f} "
                f"| {ours.server_cpu_us_per_message:.1f} | {theirs.server_cpu_us_per_message:.1f} "
                f"| {max(ours.client_cpu_percent, theirs.client_cpu_percent):.0f}% |"
            )
    lines += [
        "",
        "With a browser-like client, the guide's uvicorn negotiates permessage-deflate (on by",
        "default in uvicorn); the project leaves it off unless `APP_WS_PERMESSAGE_DEFLATE=true`.",
        "",
        "## Idle connections (memory per open WebSocket)",
        "",
        "| Connections | project KiB each | guide KiB each | ratio |",
        "| ---: | ---: | ---: | ---: |",
    ]
    idle = {(name, r.connections): r for name, r in results.idle}
    for connections in sorted({r.connections for _, r in results.idle}):
        ours_kib = idle[("project", connections)].kib_per_connection
        guide_kib = idle[("guide", connections)].kib_per_connection
        lines.append(
            f"| {connections:,} | {ours_kib:.1f} | {guide_kib:.1f} "
            f"| {_ratio(ours_kib, guide_kib)} |"
        )
    lines += [
        "",
        "## Chat fan-out: one message to every client in the room",
        "",
        "Each of the sender's messages is timed from sending until each client has it; *last* is",
        "the median over messages of the time until the last client has it.",
        "",
        "| Setup | Server | Clients | p50 ms | p99 ms | last ms | delivered |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, setup, r in results.fan_out:
        lines.append(
            f"| {setup} | {name} | {r.receivers:,} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.last_median_ms:.2f} | {r.delivered:.0%} |"
        )
    lines += [
        "",
        "## Fan-out with one client that never reads",
        "",
        "50 clients read; one more never does. The sender sends 150 messages of 60 KB, one every",
        "10 ms. In the project, the stuck client's messages wait in its own bounded outbox (it",
        "is closed with 1013 once that is full); the guide's `broadcast` awaits each client in",
        "turn.",
        "",
        "| Server | p50 ms | p99 ms | delivered to the 50 readers |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in results.stuck:
        lines.append(f"| {name} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.delivered:.0%} |")
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
    lines += ["", "## Goals", "", *goals(results), ""]
    return "\n".join(lines)


def goals(results: Results) -> list[str]:
    """Each goal of the performance issue, met or missed, by how much."""
    out = []
    plain = [
        results.echo_median("project", c, False).messages_per_second
        / results.echo_median("guide", c, False).messages_per_second
        for c in (1, 16, 128)
    ]
    out.append(
        f"- Echo, every feature on, plain clients: {', '.join(f'{r:.2f}×' for r in plain)} "
        f"the guide at 1, 16, 128 connections (goal ≥ 0.95×): "
        f"{'met' if min(plain) >= 0.95 else 'missed'}."
    )
    browser = [
        results.echo_median("project", c, True).messages_per_second
        / results.echo_median("guide", c, True).messages_per_second
        for c in (1, 16, 128)
    ]
    out.append(
        f"- Echo, browser-like clients: {', '.join(f'{r:.2f}×' for r in browser)} (goal ≥ 1.2×): "
        f"{'met' if min(browser) >= 1.2 else 'missed'}."
    )
    one = {
        r.receivers: r
        for name, setup, r in results.fan_out
        if name == "project" and setup == "one process"
    }
    two = {r.receivers: r for name, setup, r in results.fan_out if setup == "two processes + Redis"}
    if 1000 in one:
        out.append(
            f"- Fan-out to 1,000 clients in one process: p99 {one[1000].p99_ms:.1f} ms "
            f"(goal < 50 ms): {'met' if one[1000].p99_ms < 50 else 'missed'}."
        )
    if 1000 in one and 1000 in two:
        ratio = two[1000].p99_ms / one[1000].p99_ms
        out.append(
            f"- Through Redis across two processes: p99 {ratio:.2f}× the single process "
            f"(goal ≤ 2×): {'met' if ratio <= 2 else 'missed'}."
        )
    stuck = dict(results.stuck)
    if "project" in stuck and "guide" in stuck:
        ours, theirs = stuck["project"], stuck["guide"]
        out.append(
            f"- One client that never reads: the project delivered {ours.delivered:.0%} "
            f"to the others (p99 {ours.p99_ms:.1f} ms), the guide {theirs.delivered:.0%}."
        )
    tenk = [r for name, r in results.idle if name == "project" and r.connections == 10_000]
    if tenk:
        out.append(
            f"- 10,000 idle connections on one process: {tenk[0].kib_per_connection:.1f} KiB each "
            f"(goal ≤ 31 KiB): {'met' if tenk[0].kib_per_connection <= 31 else 'missed'}."
        )
    return out


def summary(results: Results) -> str:
    return "\n".join(["", "Goals:", *goals(results)])


def svg(results: Results, context: Context) -> str:
    """Echo throughput as grouped bars: project beside guide for each client mix."""
    groups = [(c, d) for c in (1, 16, 128) for d in (False, True)]
    values = [
        (
            results.echo_median("project", c, d).messages_per_second,
            results.echo_median("guide", c, d).messages_per_second,
        )
        for c, d in groups
    ]
    top = max(max(pair) for pair in values) * 1.15
    width, height, left, bottom, plot_top = 760, 400, 70, 300, 50
    plot_height = bottom - plot_top
    group_width = (width - left - 20) / len(groups)
    bar = group_width * 0.35
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        'aria-labelledby="chart-title">',
        '<title id="chart-title">Echo round trips per second: the project beside the guide '
        "under plain uvicorn, for 1, 16 and 128 connections</title>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Echo round trips, messages/s '
        "(32 bytes, closed loop)</text>",
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
    for index, ((connections, deflate), (ours, theirs)) in enumerate(
        zip(groups, values, strict=True)
    ):
        x = left + index * group_width + group_width * 0.1
        for offset, value, colour in ((0, ours, "#2b7a4b"), (bar, theirs, "#9aa5b1")):
            h = plot_height * value / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{bottom - plot_height * max(ours, theirs) / top - 6:.1f}" '
            f'text-anchor="middle" font-weight="bold">{ours / theirs:.2f}×</text>'
        )
        label = f"{connections} conn" + (", deflate offered" if deflate else "")
        parts.append(
            f'<text x="{x + bar:.1f}" y="{bottom + 18}" text-anchor="middle">{label}</text>'
        )
    legend_y = bottom + 50
    parts += [
        f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="#2b7a4b"/>',
        f'<text x="{left + 18}" y="{legend_y}">project (python -m app, all features on)</text>',
        f'<rect x="{left + 300}" y="{legend_y - 10}" width="12" height="12" fill="#9aa5b1"/>',
        f'<text x="{left + 318}" y="{legend_y}">guide under plain uvicorn</text>',
        f'<text x="{left}" y="{legend_y + 22}" fill="#555">{escape(context.command)} · commit '
        f"{escape(context.commit)}</text>",
        f'<text x="{left}" y="{legend_y + 40}" fill="#555">{escape(context.versions)}</text>',
        "</svg>",
    ]
    return "\n".join(parts)
