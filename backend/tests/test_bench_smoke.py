"""The benchmark's own code, run for a moment so that a change cannot break it unnoticed.

It measures nothing here (CI is no place for timings); it checks that each scenario runs
against a real server and that the report renders.
"""

from collections.abc import Iterator

import pytest
import uvloop

from bench import report
from bench.scenarios import echo, fan_out, idle, recovery
from bench.servers import Server, project_server


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
