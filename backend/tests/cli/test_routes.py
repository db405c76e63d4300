"""``python -m app routes``: what the dev proxy forwards (frontend/vite.config.ts asks it), so
that a feature's new route works through Vite with no edit there."""

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.routing import APIWebSocketRoute

from app.main import create_app
from app.settings import REPOSITORY_ROOT, Settings


def test_the_dev_proxy_is_told_every_route_of_the_app() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "routes"],
        cwd=REPOSITORY_ROOT / "backend",
        env={k: v for k, v in os.environ.items() if not k.startswith("APP_")},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    routes = json.loads(result.stdout)
    app = create_app(Settings(frontend_dir=Path("/nonexistent")))
    websockets = {route.path for route in app.routes if isinstance(route, APIWebSocketRoute)}
    assert set(routes["websocket"]) == websockets
    assert {"/ws", "/items/{item_id}/ws", "/ws/{client_id}", "/ws/realtime"} <= websockets
    # Every HTTP route the app describes is under a prefix the proxy forwards.
    for path in app.openapi()["paths"]:
        assert any(path.startswith(f"{prefix}/") for prefix in routes["http"]), path
    assert "/metrics" in routes["http"]
