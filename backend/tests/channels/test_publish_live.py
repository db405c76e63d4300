"""Publishing from outside the connections, over real sockets, two ``python -m app`` processes
and a real Redis: another service's ``POST /api/channels/{name}/events`` to one process reaches
the subscribers of both, once and in order, and one that was away gets what it missed; and
``python -m app publish`` from a shell reaches them too."""

import asyncio
import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from app.security.tokens import issue_token
from app.settings import REPOSITORY_ROOT
from testkit.processes import RedisServer, free_port
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import RealtimeClient
from tests.servers import Addresses, LiveServer, ThreadServers

SECRET = "channel-publish-tests-secret-of-32-chars"
PUBLISHER = issue_token(SECRET, "svc", 600, roles=("publisher",)).token
A_USER = issue_token(SECRET, "alice", 600).token


def as_bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_event(
    server: LiveServer,
    channel: str,
    data: dict[str, Any],
    token: str | None = PUBLISHER,
    key: str | None = None,
) -> httpx2.Response:
    headers = {} if token is None else as_bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx2.post(
        f"{server.http_url}/api/channels/{channel}/events",
        json={"data": data},
        headers=headers,
        timeout=5,
    )


@pytest.fixture
def two_processes_settings(redis_server: RedisServer) -> dict[str, str]:
    return {
        "APP_REDIS_URL": redis_server.url,
        "APP_TOKEN_SECRET": SECRET,
        "APP_LOG_LEVEL": "info",
        "APP_SHUTDOWN_DRAIN_SECONDS": "0.1",
    }


async def following_announcements(server: Addresses) -> RealtimeClient:
    """A client of ``server`` subscribed to ``announcements``."""
    client = RealtimeClient([server.ws_url])
    await client.start()
    assert (await client.subscribe("announcements"))["type"] == "subscribed"
    return client


async def hearing_announcements(
    server: LiveServer, text: str, published_to: LiveServer
) -> RealtimeClient:
    """A client of ``server`` subscribed to ``announcements`` that has heard ``text``,
    published to the other process."""
    client = await following_announcements(server)
    response = await asyncio.to_thread(post_event, published_to, "announcements", {"text": text})
    assert response.status_code == 201
    await wait_until_async(lambda: text in client.texts("announcements"), 5, text)
    return client


async def test_without_redis_a_shell_publishes_through_the_running_server(
    thread_servers: ThreadServers,
) -> None:
    # Breaks if, with no Redis, `python -m app publish` could not reach the one process that
    # holds the channels (the default deployment), or placed a repeated key twice.
    server = thread_servers.start(token_secret=SecretStr(SECRET))
    client = await following_announcements(server)
    env = {"APP_PORT": str(server.port), "APP_TOKEN_SECRET": SECRET}
    data = json.dumps({"text": "Maintenance at six"})
    done = await asyncio.to_thread(
        cli, "publish", "announcements", data, "--idempotency-key", "six", **env
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    await wait_until_async(
        lambda: "Maintenance at six" in client.texts("announcements"), 10, "heard"
    )
    event = client.published("announcements")[-1]
    assert (event["epoch"], event["offset"]) == (printed["epoch"], printed["offset"])
    again = await asyncio.to_thread(
        cli, "publish", "announcements", data, "--idempotency-key", "six", **env
    )
    assert json.loads(again.stdout)["offset"] == printed["offset"]
    typo = await asyncio.to_thread(cli, "publish", "announcements", '{"txt": "x"}', **env)
    assert typo.returncode == 2
    assert "422" in typo.stderr
    assert "text" in typo.stderr
    nobody = await asyncio.to_thread(
        cli, "publish", "announcements", data, APP_PORT=str(free_port()), APP_TOKEN_SECRET=SECRET
    )
    assert nobody.returncode == 1
    assert "nothing was published" in nobody.stderr
    await asyncio.sleep(0.5)
    assert client.texts("announcements").count("Maintenance at six") == 1
    await client.stop()


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGS`` with only the APP_ settings given here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPOSITORY_ROOT / "backend",
        env={**clean, "PYTHONPATH": str(REPOSITORY_ROOT / "backend"), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


# --- POST /api/channels/{name}/events ------------------------------------------------------


async def test_an_http_publish_to_one_process_reaches_both_once_and_in_order(
    two_processes: list[LiveServer],
) -> None:
    # Breaks if events did not cross processes through Redis, arrived twice (the sender's
    # process delivering its own and Redis's copy), or out of the order they were placed.
    first, second = two_processes

    here = RealtimeClient([first.ws_url])
    there = RealtimeClient([second.ws_url])
    for client in (here, there):
        await client.start()
        assert (await client.subscribe("announcements"))["type"] == "subscribed"
        await wait_until_async(partial(client.last_sync, "announcements"), 5, "synced")
    before = {id(c): len(c.published("announcements")) for c in (here, there)}
    offsets = []
    for number in range(50):
        response = await asyncio.to_thread(
            post_event, first, "announcements", {"text": f"news {number}"}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["channel"] == "announcements"
        assert body["duplicate"] is False
        offsets.append(body["offset"])
    assert offsets == list(range(offsets[0], offsets[0] + 50))  # placed one after another
    expected = [f"news {n}" for n in range(50)]

    def has_all(client: RealtimeClient) -> bool:
        return len(client.published("announcements")) - before[id(client)] >= 50

    for client in (here, there):
        await wait_until_async(partial(has_all, client), 10, "all 50 delivered")
    await asyncio.sleep(0.3)  # time for a repeat, were there one
    for client in (here, there):
        got = client.published("announcements")[before[id(client)] :]
        assert [e["data"]["text"] for e in got] == expected
        assert [e["offset"] for e in got] == offsets
        assert {e["sender"] for e in got} == {"svc"}
        assert client.duplicates == 0
        assert client.gaps == 0
        await client.stop()


async def test_a_subscriber_away_meanwhile_gets_exactly_what_it_missed(
    two_processes: list[LiveServer],
) -> None:
    # Breaks if resuming with since lost or repeated events, or if its sync did not say
    # recovered with the number replayed.
    first, second = two_processes
    client = await hearing_announcements(second, "seen", published_to=first)
    await client.go_away()
    missed = [f"missed {n}" for n in range(7)]
    for text in missed:
        response = await asyncio.to_thread(post_event, first, "announcements", {"text": text})
        assert response.status_code == 201
    await client.come_back()
    await wait_until_async(lambda: len(client.syncs["announcements"]) == 2, 5, "a second sync")
    sync = client.syncs["announcements"][-1]
    assert sync["recovered"] is True
    assert sync["reason"] is None
    assert sync["replayed"] == len(missed)
    assert client.texts("announcements")[-len(missed) - 1 :] == ["seen", *missed]
    assert client.duplicates == 0
    assert client.gaps == 0
    await client.stop()


async def test_the_same_idempotency_key_places_one_event(two_processes: list[LiveServer]) -> None:
    # Breaks if a retried POST (the same Idempotency-Key) were placed twice, or answered with
    # another position, or with 201 again.
    first, second = two_processes
    client = await following_announcements(second)
    once = await asyncio.to_thread(
        post_event, first, "announcements", {"text": "only once"}, key="deploy-42"
    )
    again = await asyncio.to_thread(
        post_event, second, "announcements", {"text": "only once"}, key="deploy-42"
    )
    assert (once.status_code, again.status_code) == (201, 200)
    assert once.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    assert (again.json()["epoch"], again.json()["offset"]) == (
        once.json()["epoch"],
        once.json()["offset"],
    )
    after = await asyncio.to_thread(post_event, first, "announcements", {"text": "next"})
    assert after.status_code == 201
    await wait_until_async(lambda: "next" in client.texts("announcements"), 5, "the next one")
    assert client.texts("announcements").count("only once") == 1
    assert client.duplicates == 0
    await client.stop()


def test_who_may_publish_what_where(two_processes: list[LiveServer]) -> None:
    # Breaks if a user's token could publish (403), if no token were let through (401), if an
    # undeclared name or a payload that does not fit were placed (404, 422).
    first, _ = two_processes
    news = {"text": "hello"}
    assert post_event(first, "announcements", news, token=A_USER).status_code == 403
    assert post_event(first, "announcements", news, token=None).status_code == 401
    unknown = post_event(first, "nothing:here", news)
    assert unknown.status_code == 404
    assert "nothing:here" in unknown.json()["detail"]
    bad = post_event(first, "announcements", {"txt": "typo"})
    assert bad.status_code == 422
    assert "text" in bad.json()["detail"]
    assert post_event(first, "announcements", {"text": ""}).status_code == 422
    missing = httpx2.post(
        f"{first.http_url}/api/channels/announcements/events",
        json={"text": "no data"},
        headers=as_bearer(PUBLISHER),
    )
    assert missing.status_code == 422
    # A user's channel takes a service's notification, in the notification's own shape.
    assert post_event(first, "user:bob", {"sender": "svc", "text": "hi"}).status_code == 201
    assert post_event(first, "user:bob", {"text": "hi"}).status_code == 422


async def test_with_redis_away_a_publish_is_refused_and_never_delivered_later(
    two_processes: list[LiveServer], redis_server: RedisServer
) -> None:
    # Breaks if a publish during an outage were answered 201 (told placed, never heard), or
    # kept and delivered once Redis returns (the caller was told 503 and may retry), or if
    # publishing did not work again once Redis is back.
    first, second = two_processes
    client = await hearing_announcements(second, "before", published_to=first)
    redis_server.stop()
    refused = await asyncio.to_thread(post_event, first, "announcements", {"text": "during"})
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"]
    await asyncio.sleep(1.0)  # the processes notice
    refused = await asyncio.to_thread(post_event, first, "announcements", {"text": "during 2"})
    assert refused.status_code == 503
    health = await asyncio.to_thread(httpx2.get, f"{first.http_url}/api/health")
    assert health.json()["status"] == "degraded"
    redis_server.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        response = await asyncio.to_thread(
            post_event, first, "announcements", {"text": "after"}, key="after-1"
        )
        if response.status_code in (200, 201):
            break
        assert response.status_code == 503
        assert loop.time() < deadline, "publishing never worked again"
        await asyncio.sleep(0.3)
    await wait_until_async(lambda: "after" in client.texts("announcements"), 10, "after")
    await asyncio.sleep(0.5)
    texts = client.texts("announcements")
    assert "during" not in texts
    assert "during 2" not in texts
    assert texts.count("after") == 1
    await client.stop()


# --- python -m app publish -------------------------------------------------------------------


async def test_a_shell_publishes_to_the_subscribers_of_a_running_process(
    two_processes: list[LiveServer], redis_server: RedisServer
) -> None:
    # Breaks if `python -m app publish` did not reach the app's processes through their
    # Redis, printed no position, or placed a repeated key twice.
    first, _ = two_processes
    client = await following_announcements(first)
    data = json.dumps({"text": "Back at noon"})
    done = await asyncio.to_thread(
        cli, "publish", "announcements", data, "--idempotency-key", "noon",
        APP_REDIS_URL=redis_server.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["channel"] == "announcements"
    await wait_until_async(lambda: "Back at noon" in client.texts("announcements"), 10, "heard")
    event = client.published("announcements")[-1]
    assert (event["epoch"], event["offset"]) == (printed["epoch"], printed["offset"])
    again = await asyncio.to_thread(
        cli, "publish", "announcements", data, "--idempotency-key", "noon",
        APP_REDIS_URL=redis_server.url,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["offset"] == printed["offset"]
    await asyncio.sleep(0.5)
    assert client.texts("announcements").count("Back at noon") == 1
    await client.stop()


def test_a_shell_is_told_what_does_not_fit(redis_server: RedisServer, tmp_path: Path) -> None:
    # Breaks if a publish that cannot be made exited 0, or without saying why.
    no_redis = cli("publish", "announcements", '{"text": "hi"}')
    assert no_redis.returncode == 2
    assert "APP_REDIS_URL" in no_redis.stderr
    for channel, data, said in (
        ("announcements", "not json", "not JSON"),
        ("announcements", '["a list"]', "JSON object"),
        ("announcements", '{"txt": "typo"}', "text"),
        ("nothing:here", '{"text": "hi"}', "no channel"),
    ):
        done = cli("publish", channel, data, APP_REDIS_URL=redis_server.url)
        assert done.returncode == 2, (channel, data, done.stdout)
        assert said in done.stderr, done.stderr
    gone = RedisServer(tmp_path)  # a port nobody listens on
    away = cli("publish", "announcements", '{"text": "hi"}', APP_REDIS_URL=gone.url)
    assert away.returncode == 1
    assert "nothing was published" in away.stderr
