"""The benchmark's own code, run for a moment so that a change cannot break it unnoticed.

It measures nothing here (CI is no place for timings); it checks that each scenario runs
against a real server and that the report renders.
"""

from collections.abc import Iterator

import pytest
import uvloop

from bench import report, topologies
from bench.channels import (
    TOKEN_SECRET,
    http_fan_out,
    idle_subscribed,
    publisher_token,
    realtime_fan_out,
)
from bench.scenarios import echo, fan_out, idle, recovery, send_floor
from bench.servers import Server, node_server, project_server, send_floor_server
from testkit.processes import RedisServer


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # With a token secret, for the HTTP publish; the other scenarios need none.
    started = project_server("project", None, APP_TOKEN_SECRET=TOKEN_SECRET).start()
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
        for channels in (1, 5):
            subscribed = await idle_subscribed(server, 20, channels)
            assert subscribed.channels == channels
            results.idle_channels.append(subscribed)
        for endpoint in ("/ws/{client_id}", "/ws/realtime"):
            scenario = realtime_fan_out if endpoint == "/ws/realtime" else fan_out
            heard = await scenario([server], 5, messages=3)
            assert heard.delivered == 1.0
            results.multiplexed.append((endpoint, heard))
        published = await http_fan_out([server], 5, publisher_token(), messages=3)
        assert published.delivered == 1.0
        results.http_fan_out.append(("one process", published))
        return results

    results = uvloop.run(scenarios())
    context = report.Context("python -m bench", "machine", "pinning", "versions", "abc", 1024, 0.1)
    markdown = report.markdown(results, context)
    assert "## Echo round trips" in markdown
    assert "Goals" in markdown
    assert "## Recovery after a reconnect" in markdown
    assert "## Channels over one connection" in markdown
    assert "following 5 channels" in markdown
    assert "subscribers on /ws/realtime: p99" in markdown
    assert report.svg(results, context).startswith("<svg")


def test_the_http_publish_reaches_subscribers_of_two_processes_through_redis() -> None:
    async def scenario(servers: list[Server]) -> None:
        published = await http_fan_out(servers, 6, publisher_token(), messages=3)
        assert published.delivered == 1.0
        assert published.answer_p99_ms > 0

    redis = RedisServer().start()
    try:
        pair = [
            project_server(
                f"project-{n}", None, APP_REDIS_URL=redis.url, APP_TOKEN_SECRET=TOKEN_SECRET
            )
            for n in (1, 2)
        ]
        try:
            for server in pair:
                server.start()
            uvloop.run(scenario(pair))
        finally:
            for server in pair:
                server.stop()
    finally:
        redis.remove()


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


def test_one_redis_against_a_cluster_runs_and_its_section_renders() -> None:
    load = topologies.Load(rooms=4, members=2, http_publishers=2, seconds=0.5, history_rooms=3)
    results = uvloop.run(topologies.run(load, None, [topologies.ONE, topologies.CLUSTER]))
    assert [(r.setup, r.mode) for r in results.throughput] == [
        (topologies.ONE, "fan-out"),
        (topologies.ONE, "HTTP publish"),
        (topologies.CLUSTER, "fan-out"),
        (topologies.CLUSTER, "HTTP publish"),
    ]
    for measured in results.throughput:
        assert measured.deliveries_per_second > 0, measured
        assert measured.redis_calls_per_event.get("evalsha", 0) > 0  # each event is placed
    assert all(h.redis_bytes_per_room > 0 for h in results.history)
    section = topologies.section(results, "python -m bench.topologies")
    assert section.startswith("# One Redis against a 3-shard Redis Cluster")
    assert "the Cluster delivers" in section
