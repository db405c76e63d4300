"""The AsyncAPI document: generated from the app's routes and channels, committed, served, in
step; and a route or channel added to an app is described without a word more."""

import json
from pathlib import Path

from fastapi import APIRouter, WebSocket
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.asyncapi import asyncapi_document, asyncapi_markdown
from app.channels.declarations import Channel, signed_in
from app.features import Feature
from app.main import create_app
from app.protocol import SERVER_MESSAGES
from app.settings import REPOSITORY_ROOT, Settings

REGENERATE = (
    "docs/asyncapi.* are stale: from backend/, run `python -m app asyncapi > ../docs/asyncapi.json`"
    " and `python -m app asyncapi --markdown > ../docs/asyncapi.md`"
)
NO_BUILD = Path("/nonexistent")


def test_the_committed_document_matches_the_app() -> None:
    committed = json.loads((REPOSITORY_ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == asyncapi_document(create_app(Settings(frontend_dir=NO_BUILD))), REGENERATE
    readable = (REPOSITORY_ROOT / "docs" / "asyncapi.md").read_text()
    assert readable == asyncapi_markdown(committed), REGENERATE


def test_every_server_message_of_the_protocol_is_described() -> None:
    described = set(
        asyncapi_document(create_app(Settings(frontend_dir=NO_BUILD)))["components"]["schemas"]
    )
    assert {model.__name__ for model in SERVER_MESSAGES} <= described


def test_the_document_is_served(client: TestClient) -> None:
    response = client.get("/api/asyncapi.json")
    assert response.status_code == 200
    assert response.json()["asyncapi"] == "3.0.0"
    assert set(response.json()["channels"]) == {
        "echo",
        "item_messages",
        "chat",
        "live",
        "realtime",
    }


class Score(BaseModel):
    """A game's score."""

    home: int
    away: int


def test_a_route_and_a_channel_added_to_an_app_are_described_without_more() -> None:
    router = APIRouter()

    @router.websocket("/ws/scores/{game}")
    async def scores(websocket: WebSocket, game: str) -> None:
        """Scores of one game, as they change."""
        await websocket.accept()

    scores_feature = Feature(
        "scores",
        channels=(Channel("scores:{game}", payload=Score, subscribe=signed_in),),
        routers=(router,),
    )
    app = create_app(Settings(frontend_dir=NO_BUILD), features=[scores_feature])
    document = asyncapi_document(app)
    assert document["channels"]["scores"]["address"] == "/ws/scores/{game}"
    assert document["channels"]["scores"]["description"] == "Scores of one game, as they change."
    assert "game" in document["channels"]["scores"]["parameters"]
    event = document["components"]["messages"]["event_scores_game"]
    assert "anyone signed in" in event["summary"]
    assert "Score" in document["components"]["schemas"]
    assert "event_scores_game" in document["channels"]["realtime"]["messages"]
