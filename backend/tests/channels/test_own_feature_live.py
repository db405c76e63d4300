"""A live feature built in the test through the public extension points only, as a user's own
would be: a channel declaration with its payload model, a route that publishes with
``PublisherDep``, a WebSocket route of its own, handed to ``create_app(settings, features=...)``.
Nothing else is edited, and metrics, tickets, ``GET /api/config`` and the AsyncAPI document
know of it."""

import asyncio
import time

import httpx2
import pytest
from fastapi import APIRouter, WebSocket
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from websockets.sync.client import connect

from app.channels.declarations import Channel, anyone, nobody
from app.channels.history import HistoryLimits
from app.channels.publisher import PublisherDep
from app.conversation.loop import Conversation, Handler, serve_conversation
from app.deps import start_conversation
from app.features import Feature, discover
from app.main import create_app
from app.settings import Settings
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import RealtimeClient
from tests.servers import InProcessServer, ThreadServers

OPERATOR_TOKEN = "operator-token-for-the-feature-test"


# --- the feature, as a user would write it ---------------------------------------------------


class Score(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    home: int = Field(ge=0)
    away: int = Field(ge=0)


SCORES = Channel(
    "scores:{game}",
    payload=Score,
    subscribe=anyone,
    publish=nobody,  # the referee's route publishes, never a socket
    history=HistoryLimits(max_events=10, replay_on_join=1),
    parameters={"game": r"[a-z0-9-]{1,20}"},
    description="A game's score, as the referee posts it.",
)

router = APIRouter()


class Posted(BaseModel):
    epoch: str
    offset: int


@router.post("/api/games/{game}/score", status_code=201)
async def post_score(game: str, score: Score, publisher: PublisherDep) -> Posted:
    position = await publisher.publish(SCORES.name(game=game), score, sender="referee")
    return Posted(epoch=position.epoch, offset=position.offset)


class Board(Handler):
    def __init__(self, game: str) -> None:
        self.game = game

    async def on_text(self, conversation: Conversation, text: str, message_id: str | None) -> None:
        await conversation.reply(f"{self.game} heard: {text}", message_id)


@router.websocket("/ws/scores/{game}")
async def scoreboard(websocket: WebSocket, game: str) -> None:
    """A game's scoreboard: the feature's own socket."""
    conversation, limits, metrics = start_conversation(websocket)
    await serve_conversation(conversation, Board(game), limits, metrics)


SCORES_FEATURE = Feature("scores", channels=(SCORES,), routers=(router,))

# --- the tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(module_thread_servers: ThreadServers) -> InProcessServer:
    settings = Settings(
        frontend_dir=module_thread_servers.folder, metrics_token=SecretStr(OPERATOR_TOKEN)
    )
    return module_thread_servers.start(
        app=create_app(settings, features=[*discover(), SCORES_FEATURE])
    )


def samples(server: InProcessServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx2.get(
        f"{server.http_url}/metrics", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    response.raise_for_status()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_what_the_route_publishes_reaches_a_subscriber(server: InProcessServer) -> None:
    # Breaks if a feature's channel were not registered from create_app's features, if
    # PublisherDep did not place what a route publishes, or the subscriber did not get it.
    client = RealtimeClient([server.ws_url])
    await client.start()
    assert (await client.subscribe("scores:final"))["type"] == "subscribed"
    await wait_until_async(lambda: client.last_sync("scores:final"), 5, "synced")
    response = await asyncio.to_thread(
        httpx2.post, f"{server.http_url}/api/games/final/score", json={"home": 2, "away": 1}
    )
    assert response.status_code == 201, response.text
    await wait_until_async(lambda: client.published("scores:final"), 5, "the score")
    event = client.published("scores:final")[-1]
    assert event["data"] == {"home": 2, "away": 1}
    assert event["sender"] == "referee"
    assert (event["epoch"], event["offset"]) == (
        response.json()["epoch"],
        response.json()["offset"],
    )
    # Its rules hold on the socket: nobody publishes there, a bad name is not a channel.
    refused = await client.publish("scores:final", {"home": 9, "away": 0})
    assert refused["code"] == "forbidden"
    assert (await client.subscribe("scores:NOT_A_GAME"))["code"] == "unknown_channel"
    bad = await asyncio.to_thread(
        httpx2.post, f"{server.http_url}/api/games/final/score", json={"home": -1, "away": 0}
    )
    assert bad.status_code == 422
    # The chat, discovered as always, is still there beside it.
    assert (await client.subscribe("chat:general", member="3"))["type"] == "subscribed"
    await client.stop()


def test_its_websocket_route_is_counted_described_and_ticketed(server: InProcessServer) -> None:
    # Breaks if a feature's WebSocket route needed an edit elsewhere to be counted in
    # /metrics (by its template), described in AsyncAPI, or given tickets.
    with connect(f"{server.ws_url}/ws/scores/final") as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "final heard: hello"
        endpoint = (("endpoint", "/ws/scores/{game}"), ("subprotocol", "none"))
        assert samples(server)[("realtime_connections_open", endpoint)] == 1
    time.sleep(1.3)  # the hot path's counts reach prometheus-client once a second
    counted = samples(server)
    assert counted[("realtime_messages_received_total", (("endpoint", "/ws/scores/{game}"),))] == 1
    assert counted[("realtime_messages_sent_total", (("endpoint", "/ws/scores/{game}"),))] == 1
    assert not any("/ws/scores/final" in str(labels) for _, labels in counted)  # templates only

    document = httpx2.get(f"{server.http_url}/api/asyncapi.json").json()
    addresses = {entry["address"] for entry in document["channels"].values()}
    assert "/ws/scores/{game}" in addresses
    assert "event_scores_game" in document["components"]["messages"]
    assert "Score" in document["components"]["schemas"]
    realtime = next(c for c in document["channels"].values() if c["address"] == "/ws/realtime")
    assert "event_scores_game" in realtime["messages"]

    ticket = httpx2.post(
        f"{server.http_url}/api/ws-tickets",
        json={"endpoint": "/ws/scores/final"},
        headers={"Authorization": "Bearer someone"},
    )
    assert ticket.status_code == 201, ticket.text


def test_config_lists_the_features_channel(server: InProcessServer) -> None:
    # Breaks if GET /api/config read channels from anywhere but the app's own registry.
    config = httpx2.get(f"{server.http_url}/api/config").json()
    patterns = [channel["pattern"] for channel in config["channels"]]
    assert patterns == ["chat:{room}", "user:{subject}", "announcements", "scores:{game}"]
    scores = config["channels"][-1]
    assert scores == {
        "pattern": "scores:{game}",
        "presence": False,
        "description": "A game's score, as the referee posts it.",
    }
