"""The notifications feature over real sockets: a signed-in user sends another a notification
(``POST /api/notifications``), which reaches that user's channel (``user:{subject}``) alone,
at once or when they come back; who may send, and how often; and ``GET /api/me``."""

import asyncio

import httpx2
import pytest
from pydantic import SecretStr

from app.security.tokens import issue_token
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import Credentials, RealtimeClient
from tests.servers import InProcessServer, ThreadServers

SECRET = "notifications-tests-secret-of-32-chars!"


def token_of(subject: str, *roles: str) -> str:
    return issue_token(SECRET, subject, 600, roles=roles or ("user",)).token  # type: ignore[arg-type]


ALICE = token_of("alice")
BOB = token_of("bob")
SERVICE = token_of("billing", "publisher")


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    return module_thread_servers.start(token_secret=SecretStr(SECRET))


def ticketed(server: InProcessServer, token: str) -> Credentials:
    """A fresh ticket for WS /ws/realtime before each connection, asked with the session
    cookie, as the SPA does."""

    async def credentials() -> dict[str, str]:
        response = await asyncio.to_thread(
            httpx2.post,
            f"{server.http_url}/api/ws-tickets",
            json={"endpoint": "/ws/realtime"},
            cookies={"session": token},
        )
        assert response.status_code == 201, response.text
        return {"ticket": response.json()["ticket"]}

    return credentials


def notify(
    server: InProcessServer, to: str, text: str, *, cookie: str | None = None, bearer: str = ""
) -> httpx2.Response:
    return httpx2.post(
        f"{server.http_url}/api/notifications",
        json={"to": to, "text": text},
        cookies={"session": cookie} if cookie else None,
        headers={"Authorization": f"Bearer {bearer}"} if bearer else None,
    )


async def test_a_notification_reaches_its_recipient_now_or_when_they_come_back(
    server: InProcessServer,
) -> None:
    # Breaks if a notification did not reach user:bob, carried a sender other than the one
    # signed in, or was lost or repeated while bob was away.
    bob = RealtimeClient([server.ws_url], credentials=ticketed(server, BOB))
    await bob.start()
    assert (await bob.subscribe("user:bob"))["type"] == "subscribed"
    await wait_until_async(lambda: bob.last_sync("user:bob"), 5, "synced")

    sent = await asyncio.to_thread(notify, server, "bob", "hi", cookie=ALICE)
    assert sent.status_code == 201, sent.text
    assert sent.json()["channel"] == "user:bob"
    await wait_until_async(lambda: bob.published("user:bob"), 5, "the notification")
    event = bob.published("user:bob")[-1]
    assert event["data"] == {"sender": "alice", "text": "hi"}
    assert event["sender"] == "alice"
    assert (event["epoch"], event["offset"]) == (sent.json()["epoch"], sent.json()["offset"])

    await bob.go_away()
    for text in ("while you were out", "and again"):
        response = await asyncio.to_thread(notify, server, "bob", text, bearer=ALICE)
        assert response.status_code == 201
    await bob.come_back()  # with a fresh ticket, from where it was
    await wait_until_async(lambda: len(bob.syncs["user:bob"]) == 2, 5, "synced again")
    sync = bob.syncs["user:bob"][-1]
    assert (sync["recovered"], sync["replayed"]) == (True, 2)
    assert bob.texts("user:bob") == ["hi", "while you were out", "and again"]
    assert bob.duplicates == 0
    await bob.stop()


async def test_a_member_away_beyond_the_history_is_told_so(server: InProcessServer) -> None:
    # Breaks if a resume from a position the history no longer reaches said recovered (the
    # channel keeps 100 notifications), instead of too_far_behind with the recent ones.
    carol = RealtimeClient(
        [server.ws_url], headers={"Authorization": f"Bearer {token_of('carol')}"}
    )
    await carol.start()
    assert (await carol.subscribe("user:carol"))["type"] == "subscribed"
    first = await asyncio.to_thread(
        httpx2.post,
        f"{server.http_url}/api/channels/user:carol/events",
        json={"data": {"sender": "billing", "text": "invoice 0"}},
        headers={"Authorization": f"Bearer {SERVICE}"},
    )
    assert first.status_code == 201, first.text
    await wait_until_async(lambda: carol.published("user:carol"), 5, "the first")
    await carol.go_away()

    def flood() -> None:
        with httpx2.Client(headers={"Authorization": f"Bearer {SERVICE}"}) as http:
            for number in range(1, 121):
                response = http.post(
                    f"{server.http_url}/api/channels/user:carol/events",
                    json={"data": {"sender": "billing", "text": f"invoice {number}"}},
                )
                assert response.status_code == 201

    await asyncio.to_thread(flood)
    await carol.come_back()
    await wait_until_async(lambda: len(carol.syncs["user:carol"]) == 2, 5, "synced again")
    sync = carol.syncs["user:carol"][-1]
    assert sync["recovered"] is False
    assert sync["reason"] == "too_far_behind"
    # What it is shown instead: the newest, up to the channel's replay_on_join (20).
    assert carol.texts("user:carol")[1:] == [f"invoice {n}" for n in range(101, 121)]
    await carol.stop()


async def test_only_the_recipient_may_follow_their_channel(server: InProcessServer) -> None:
    # Breaks if alice could follow bob's notifications, by any credential.
    for alice in (
        RealtimeClient([server.ws_url], credentials=ticketed(server, ALICE)),
        RealtimeClient([server.ws_url], headers={"Cookie": f"session={ALICE}"}),
        RealtimeClient([server.ws_url], headers={"Authorization": f"Bearer {ALICE}"}),
    ):
        await alice.start()
        refused = await alice.subscribe("user:bob")
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        assert (await alice.subscribe("user:alice"))["type"] == "subscribed"
        await alice.stop()


def test_who_may_send_a_notification(server: InProcessServer) -> None:
    # Breaks if a guest, a forged token, or a service without the user role could send one,
    # or if the request were not checked.
    assert notify(server, "bob", "hi").status_code == 401
    assert notify(server, "bob", "hi", bearer="not-a-token").status_code == 401
    assert notify(server, "bob", "hi", bearer=SERVICE).status_code == 403
    assert notify(server, "bob", "", cookie=ALICE).status_code == 422
    assert notify(server, "bob", "x" * 501, cookie=ALICE).status_code == 422
    assert notify(server, "bob/../x", "hi", cookie=ALICE).status_code == 422
    extra = httpx2.post(
        f"{server.http_url}/api/notifications",
        json={"to": "bob", "text": "hi", "sender": "mallory"},
        cookies={"session": ALICE},
    )
    assert extra.status_code == 422  # the sender is who is signed in, never what is claimed


def test_a_recipient_name_no_channel_can_carry_is_a_422(server: InProcessServer) -> None:
    # Breaks if a `to` that passes the request's pattern (\w is Unicode) but not the channel's
    # name (ASCII) made the route fail with a 500.
    response = notify(server, "bób", "hi", cookie=ALICE)
    assert response.status_code == 422, response.text


def test_sending_too_often_is_a_429_with_retry_after(server: InProcessServer) -> None:
    # Breaks if one sender could flood another's bell without limit.
    sender = token_of("rate-limited-dave")
    answers = [notify(server, "bob", f"spam {n}", bearer=sender) for n in range(12)]
    codes = [answer.status_code for answer in answers]
    assert codes[0] == 201
    assert 429 in codes, codes
    limited = answers[codes.index(429)]
    assert int(limited.headers["retry-after"]) >= 1
    # Another sender is not held up by it.
    assert notify(server, "bob", "hello", bearer=token_of("erin")).status_code == 201


def test_me_says_who_you_are(server: InProcessServer) -> None:
    # Breaks if /api/me named the wrong principal, or failed for a guest.
    me = f"{server.http_url}/api/me"
    assert httpx2.get(me, cookies={"session": ALICE}).json() == {
        "subject": "alice",
        "roles": ["user"],
    }
    assert httpx2.get(me, headers={"Authorization": f"Bearer {SERVICE}"}).json() == {
        "subject": "billing",
        "roles": ["publisher"],
    }
    assert httpx2.get(me).json() == {"subject": None, "roles": []}
    # A stale cookie is passed over, as on every page: a guest.
    stale = httpx2.get(me, cookies={"session": "expired-or-forged"})
    assert stale.status_code == 200
    assert stale.json()["subject"] is None
