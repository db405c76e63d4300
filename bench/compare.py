"""``python -m bench.compare --against REV``: this tree's backend against another revision's, in
one invocation, interleaved, for telling a change from the noise of a shared machine.

Each revision's ``backend/`` is exported with ``git archive`` into a temporary folder and run as
``python -m app`` with the same settings as ``python -m bench`` (a revision whose settings
differ gets what it knows of them). Every round starts a fresh server of each in turn, in an
order that alternates between rounds, and runs the guide's chat broadcast to ``--receivers``
clients (with ``--multiplexed``, a chat room's fan-out on ``/ws/realtime`` instead, as in
``bench.channels.realtime_fan_out``; with ``--idle N``, N idle connections on ``/ws`` too; a
revision without ``/ws/realtime`` cannot run ``--multiplexed``). Printed: each run, then per
revision the medians, and the ratio of each other revision (this tree last) to the first,
round by round, with its range: a ratio whose range straddles 1 is noise.
"""

import argparse
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench import report
from bench.__main__ import pin_cores, raise_file_limit
from bench.channels import realtime_fan_out
from bench.scenarios import FanOutResult, IdleResult, fan_out, idle
from bench.servers import ROOT, Server, project_server

THIS_TREE = "this tree"
FIGURES = (
    ("p50", "p50_ms"),
    ("p99", "p99_ms"),
    ("last", "last_median_ms"),
    ("CPU/delivery", "server_cpu_us_per_delivery"),
)


def export_backend(revision: str, into: Path) -> Path:
    """The revision's ``backend/`` in a folder of its own; its path, for PYTHONPATH."""
    archive = subprocess.run(
        ["git", "archive", revision, "backend"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "backend"


@dataclass
class Runs:
    fan_out: list[FanOutResult] = field(default_factory=list)
    idle: list[IdleResult] = field(default_factory=list)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}× (from {min(values):.2f} to {max(values):.2f})"


def summary(runs: dict[str, Runs], baseline: str) -> list[str]:
    lines = []
    for label, measured in runs.items():
        fans = measured.fan_out
        if fans:
            lines.append(
                f"{label:>12}: fan-out to {fans[0].receivers:,}, medians of {len(fans)} runs: "
                f"p50 {statistics.median(f.p50_ms for f in fans):.2f} ms, "
                f"p99 {statistics.median(f.p99_ms for f in fans):.2f} ms, "
                f"last {statistics.median(f.last_median_ms for f in fans):.2f} ms, "
                f"server {statistics.median(f.server_cpu_us_per_delivery for f in fans):.2f} "
                "us CPU/delivery"
            )
        if measured.idle:
            lines.append(
                f"{label:>12}: {measured.idle[0].connections:,} idle, medians of "
                f"{len(measured.idle)} runs: "
                f"{statistics.median(r.kib_per_connection for r in measured.idle):.1f} KiB each"
            )
    theirs = runs[baseline]
    for label, ours in runs.items():
        if label == baseline:
            continue
        lines.append(f"{label} ÷ {baseline}, round by round (median, range):")
        pairs = list(zip(ours.fan_out, theirs.fan_out, strict=True))
        for name, attribute in FIGURES:
            ratios = [getattr(a, attribute) / getattr(b, attribute) for a, b in pairs]
            lines.append(f"  broadcast {name}: {_spread(ratios)}")
        idle_pairs = list(zip(ours.idle, theirs.idle, strict=True))
        if idle_pairs:
            ratios = [a.kib_per_connection / b.kib_per_connection for a, b in idle_pairs]
            lines.append(f"  idle KiB per connection: {_spread(ratios)}")
    return lines


async def run(args: argparse.Namespace, backends: dict[str, Path | None]) -> dict[str, Runs]:
    server_cores, pinning = pin_cores()
    print(pinning, flush=True)
    runs = {label: Runs() for label in backends}

    def server(label: str) -> Server:
        path = backends[label]
        env = {} if path is None else {"PYTHONPATH": str(path)}
        return project_server(label, server_cores, **env)

    for round_number in range(args.rounds):
        order = list(backends) if round_number % 2 == 0 else list(reversed(backends))
        for label in order:
            measured = server(label).start()
            scenario = realtime_fan_out if args.multiplexed else fan_out
            try:
                result = await scenario(
                    [measured], args.receivers, messages=args.messages, wait=10, close_clients=False
                )
            finally:
                measured.kill()
            runs[label].fan_out.append(result)
            print(report.fan_out_line(label, f"round {round_number + 1}", result), flush=True)
            if args.idle:
                measured = server(label).start()
                try:
                    memory = await idle(measured, args.idle)
                finally:
                    measured.kill()
                runs[label].idle.append(memory)
                print(report.idle_line(label, memory), flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument(
        "--against", action="append", required=True, help="a git revision (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--idle", type=int, default=0, help="idle connections per run (0: none)")
    parser.add_argument(
        "--multiplexed", action="store_true", help="the fan-out of a chat room on /ws/realtime"
    )
    args = parser.parse_args()
    raise_file_limit(30_000)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as folder:
        backends: dict[str, Path | None] = {}
        for revision in args.against:
            label = subprocess.run(
                ["git", "rev-parse", "--short", revision],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            target = Path(folder) / label
            target.mkdir()
            backends[label] = export_backend(revision, target)
        backends[THIS_TREE] = None
        runs = uvloop.run(run(args, backends))
    print("\n".join(summary(runs, next(iter(backends)))))


if __name__ == "__main__":
    main()
