"""Serving the built SPA: client-side routes, missing assets, cache lifetimes."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.servers import ASSET_JS, INDEX_HTML

BROWSER_NAVIGATION = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/", "/items", "/echo", "/items?q=3", "/some/deep/link"])
def test_navigation_to_any_page_gets_the_spa(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BROWSER_NAVIGATION)
    assert response.status_code == 200
    assert response.text == INDEX_HTML
    assert response.headers["cache-control"] == "no-cache"


def test_hashed_asset_is_cached_forever(client: TestClient) -> None:
    response = client.get("/assets/index-3f9a1c.js")
    assert response.status_code == 200
    assert response.text == ASSET_JS
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/assets/missing-123.js", "/favicon.ico", "/items/logo.png"])
def test_missing_asset_is_404_not_the_spa(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"accept": "*/*"})
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_missing_hashed_asset_is_404_even_for_a_browser_navigation(client: TestClient) -> None:
    response = client.get("/assets/missing-123.js", headers=BROWSER_NAVIGATION)
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_api_routes_win_over_the_spa(client: TestClient) -> None:
    response = client.get("/api/health", headers=BROWSER_NAVIGATION)
    assert response.json()["status"] == "ok"
    assert "cache-control" not in response.headers


def test_path_traversal_does_not_leave_the_build_folder(client: TestClient) -> None:
    response = client.get("/assets/../../../etc/passwd", headers={"accept": "*/*"})
    assert response.status_code == 404


def test_without_a_build_the_api_still_serves(tmp_path: Path) -> None:
    with TestClient(
        create_app(Settings(frontend_dir=tmp_path / "not-built", allowed_hosts=["testserver"]))
    ) as client:
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/", headers=BROWSER_NAVIGATION).status_code == 404
