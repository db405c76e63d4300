"""Security headers on pages served over a real socket."""

from pathlib import Path

import httpx2

from app.settings import Settings
from tests.servers import serve_in_thread, write_frontend


def test_pages_carry_security_headers(tmp_path: Path) -> None:
    with serve_in_thread(Settings(frontend_dir=write_frontend(tmp_path))) as server:
        headers = httpx2.get(f"{server.http_url}/items").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "connect-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
