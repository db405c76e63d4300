"""The benchmark's own code, run for a moment so that a change cannot break it unnoticed.

It measures nothing here (CI is no place for timings); it checks that each scenario runs
against a real server and that the report renders.
"""

from collections.abc import Iterator

import pytest
import uvloop

from bench import report
from bench.scenarios import echo, fan_out, idle, recovery, send_floor
from bench.servers import Server, node_server, project_server, send_floor_server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = project_server("project", None).start()
    yield started
    started.stop()


def test_scenarios_run_and_the_report_renders(server: Server) -> None:
    async def scenarios() -> report.Results:
        results = report.Results()
        for connections in (1, 16, 128):
            for deflate in (False, True):
                measured = await echo(server, connections, offer_deflate=deflate, seconds=0.2)
                assert measured.messages_per_second > 0
                assert not measured.deflate_negotiated  # off by default
                for name in ("project", "guide"):  # one server stands in for both
                    results.add_echo(name, connections, deflate, measured)
        memory = await idle(server, 20)
        results.idle += [("project", memory), ("guide", memory)]
        delivered = await fan_out([server], 5, messages=3)
        assert delivered.messages == 3
        assert delivered.delivered == 1.0
        results.fan_out.append(("project", "one process", delivered))
        recovered = await recovery(server, missed=20, rounds=1)
        assert recovered.recovered
        results.recovery.append(("one process", recovered))
        return results

    results = uvloop.run(scenarios())
    context = report.Context("python -m bench", "machine", "pinning", "versions", "abc", 1024, 0.1)
    markdown = report.markdown(results, context)
    assert "## Echo round trips" in markdown
    assert "Goals" in markdown
    assert "## Recovery after a reconnect" in markdown
    assert report.svg(results, context).startswith("<svg")


def test_the_node_reference_server_runs() -> None:
    async def scenarios() -> None:
        measured = await echo(node, 1, offer_deflate=False, seconds=0.2)
        assert measured.messages_per_second > 0
        delivered = await fan_out([node], 5, messages=3)
        assert delivered.delivered == 1.0

    node = node_server(None).start()
    try:
        uvloop.run(scenarios())
    finally:
        node.stop()


def test_the_send_floor_runs() -> None:
    floor_server = send_floor_server(None, 5).start()
    try:
        floor = uvloop.run(send_floor(floor_server, 5, rounds=3))
    finally:
        floor_server.kill()
    assert floor.connections == 5
    assert floor.median_ms > 0
