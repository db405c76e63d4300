"""The AsyncAPI document: generated from the models, committed, served, in step."""

import json

from fastapi.testclient import TestClient

from app.asyncapi import asyncapi_document, asyncapi_markdown
from app.conversation.messages import server_message_adapter
from app.settings import REPOSITORY_ROOT

REGENERATE = (
    "docs/asyncapi.* are stale: from backend/, run `python -m app.asyncapi > ../docs/asyncapi.json`"
    " and `python -m app.asyncapi --markdown > ../docs/asyncapi.md`"
)


def test_the_committed_document_matches_the_models() -> None:
    committed = json.loads((REPOSITORY_ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == asyncapi_document(), REGENERATE
    readable = (REPOSITORY_ROOT / "docs" / "asyncapi.md").read_text()
    assert readable == asyncapi_markdown(committed), REGENERATE


def test_every_server_message_of_the_protocol_is_described() -> None:
    described = set(asyncapi_document()["components"]["schemas"])
    protocol = server_message_adapter.json_schema(mode="serialization")["$defs"]
    assert set(protocol) - {"EndpointNow", "RecentHappening", "BrokerNow"} <= described


def test_the_document_is_served(client: TestClient) -> None:
    response = client.get("/api/asyncapi.json")
    assert response.status_code == 200
    assert response.json()["asyncapi"] == "3.0.0"
    assert set(response.json()["channels"]) == {"echo", "items", "chat", "live"}
