from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_post_sets_an_httponly_lax_cookie(client: TestClient) -> None:
    response = client.post("/api/session", json={"value": "fakesession"})
    assert response.status_code == 204
    assert response.headers["set-cookie"] == ("session=fakesession; HttpOnly; Path=/; SameSite=lax")


def test_cookie_set_by_the_api_authenticates_the_items_socket(client: TestClient) -> None:
    client.post("/api/session", json={"value": "chosen-by-user"})
    assert client.get("/api/session").json() == {"active": True}
    with client.websocket_connect("/items/foo/ws") as websocket:
        websocket.send_text("X")
        assert websocket.receive_text() == "Session cookie or query token value is: chosen-by-user"


def test_delete_clears_the_cookie(client: TestClient) -> None:
    client.post("/api/session", json={"value": "fakesession"})
    response = client.delete("/api/session")
    assert response.status_code == 204
    assert response.headers["set-cookie"].startswith('session=""; expires=')
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/api/session").json() == {"active": False}


def test_state_without_a_cookie_is_inactive(client: TestClient) -> None:
    assert client.get("/api/session").json() == {"active": False}


def test_post_and_delete_answer_a_bare_204(client: TestClient) -> None:
    for response in (
        client.post("/api/session", json={"value": "fakesession"}),
        client.delete("/api/session"),
    ):
        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "the session value is empty"),
        ("x" * 257, "the session value is longer than 256 characters"),
        (
            "two words",
            "the session value takes letters, digits and punctuation only: "
            "no spaces, quotes, commas, semicolons or backslashes",
        ),
        (
            "a;Path=/evil",
            "the session value takes letters, digits and punctuation only: "
            "no spaces, quotes, commas, semicolons or backslashes",
        ),
    ],
)
def test_a_value_that_cannot_be_a_cookie_gets_a_422_in_our_words(
    client: TestClient, value: str, detail: str
) -> None:
    response = client.post("/api/session", json={"value": value})
    assert response.status_code == 422
    assert response.json() == {"detail": detail}
    assert "set-cookie" not in response.headers


def test_the_longest_value_is_the_servers_setting(built_frontend: Path) -> None:
    settings = Settings(
        frontend_dir=built_frontend, allowed_hosts=["testserver"], max_credential_length=8
    )
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/session", json={"value": "x" * 8}).status_code == 204
        response = client.post("/api/session", json={"value": "x" * 9})
    assert response.json() == {"detail": "the session value is longer than 8 characters"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"value": 42}, "Input should be a valid string"),
        ({"value": ["a"]}, "Input should be a valid string"),
        ({"value": None}, "Input should be a valid string"),
        ({}, "Field required"),
        ({"value": "ok", "admin": True}, "Extra inputs are not permitted"),
    ],
)
def test_a_body_of_the_wrong_shape_gets_fastapis_422(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
    # Only programs send these: the page always sends {"value": "<what was typed>"}.
    response = client.post("/api/session", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message
    assert "set-cookie" not in response.headers


def test_a_body_that_is_not_json_gets_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "JSON decode error"
