"""The Origin check, case by case, and through the app."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.main import create_app
from app.security.origins import is_same_origin
from app.settings import Settings

NO_BUILD = Path("/nonexistent")


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
        ("http://localhost:5173", "localhost:5173", "ws"),  # Vite's proxy keeps the Host
        ("https://example.com", "example.com", "wss"),
        ("https://example.com", "example.com", "ws"),  # TLS ended at a proxy
        ("https://example.com:443", "example.com", "ws"),
        ("http://[::1]:8000", "[::1]:8000", "ws"),
        ("http://EXAMPLE.com", "example.COM", "ws"),
    ],
)
def test_same_origin(origin: str, host: str, scheme: str) -> None:
    assert is_same_origin(origin.lower(), host.lower(), scheme)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://evil.example", "127.0.0.1:8000"),
        ("http://127.0.0.1:9999", "127.0.0.1:8000"),  # another port is another origin
        ("http://127.0.0.1.evil.example:8000", "127.0.0.1:8000"),
        ("https://example.com:8443", "example.com"),
        ("null", "127.0.0.1:8000"),  # sandboxed frames and file: pages
        ("file://", "127.0.0.1:8000"),
        ("http://example.com:notaport", "example.com"),
    ],
)
def test_foreign_origin(origin: str, host: str) -> None:
    assert not is_same_origin(origin, host, "ws")


@pytest.mark.parametrize(
    ("path", "first_answer"),
    [
        ("/ws", "Message text was: own page"),
        ("/items/1/ws?token=t", "Session cookie or query token value is: t"),
        ("/ws/1", "You wrote: own page"),
    ],
)
def test_app_refuses_a_foreign_origin_on_every_websocket(path: str, first_answer: str) -> None:
    with TestClient(
        create_app(Settings(frontend_dir=NO_BUILD, allowed_hosts=["testserver"]))
    ) as client:
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(path, headers={"origin": "http://evil.example"}),
        ):
            pass
        assert refused.value.code == 1008  # before accept: HTTP 403 over a real socket
        with client.websocket_connect(path, headers={"origin": "http://testserver"}) as ws:
            ws.send_text("own page")
            assert ws.receive_text() == first_answer


def test_allowlisted_origin_is_accepted() -> None:
    settings = Settings(
        frontend_dir=NO_BUILD,
        allowed_origins=["https://app.example/"],
        allowed_hosts=["testserver"],
    )
    with (
        TestClient(create_app(settings)) as client,
        client.websocket_connect("/ws", headers={"origin": "https://app.example"}) as ws,
    ):
        ws.send_text("hi")
        assert ws.receive_text() == "Message text was: hi"


def test_allowed_origins_are_comma_separated_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ALLOWED_ORIGINS", "https://a.example, http://b.example:8080/")
    assert Settings().allowed_origins == ["https://a.example", "http://b.example:8080"]
