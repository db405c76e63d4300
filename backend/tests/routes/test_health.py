from fastapi.testclient import TestClient


def test_health_answers_json(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "chat_broker": {"kind": "memory", "connected": True},
    }
