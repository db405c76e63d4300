from typing import Any

import pytest
from fastapi.testclient import TestClient


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


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"value": ""}, "String should have at least 1 character"),
        ({"value": "x" * 257}, "String should have at most 256 characters"),
        ({"value": 42}, "Input should be a valid string"),
        ({"value": ["a"]}, "Input should be a valid string"),
        ({"value": None}, "Input should be a valid string"),
        ({}, "Field required"),
        (
            {"value": "two words"},
            "Value error, may contain only letters, digits and punctuation, "
            "without spaces, quotes, commas, semicolons or backslashes",
        ),
        (
            {"value": "a;Path=/evil"},
            "Value error, may contain only letters, digits and punctuation, "
            "without spaces, quotes, commas, semicolons or backslashes",
        ),
        ({"value": "ok", "admin": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_values_get_a_422_with_a_readable_message(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
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
