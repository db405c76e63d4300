"""``GET /api/config`` tells a page which channels it may follow on ``WS /ws/realtime`` and how
many at once, and whether it may ask this server for a signed token, from the app's own
declarations and settings, so that the SPA holds no copy."""

from pathlib import Path

import httpx2
from pydantic import SecretStr

from app.settings import Settings
from tests.servers import serve_in_thread


def test_config_lists_the_declared_channels_and_the_limit(tmp_path: Path) -> None:
    # Breaks if a declared channel were missing (or an undeclared one listed), if its presence
    # flag were wrong, or if channels_per_connection were not the server's setting.
    with serve_in_thread(Settings(frontend_dir=tmp_path, channels_per_connection=7)) as server:
        config = httpx2.get(f"{server.http_url}/api/config").json()
    assert config["channels_per_connection"] == 7
    listed = {channel["pattern"]: channel for channel in config["channels"]}
    assert list(listed) == ["chat:{room}", "user:{subject}", "announcements"]
    assert {pattern: channel["presence"] for pattern, channel in listed.items()} == {
        "chat:{room}": True,
        "user:{subject}": False,
        "announcements": False,
    }
    assert all(channel["description"] for channel in listed.values())


def test_the_default_limit_is_what_the_protocol_says(tmp_path: Path) -> None:
    # Breaks if the default drifted from docs/protocol.md's 32.
    with serve_in_thread(Settings(frontend_dir=tmp_path)) as server:
        config = httpx2.get(f"{server.http_url}/api/config").json()
    assert config["channels_per_connection"] == 32


def test_config_says_whether_tokens_are_signed_and_handed_out(tmp_path: Path) -> None:
    # The Items page offers "Get a signed token" only where POST /api/tokens would give one.
    secret = SecretStr("a-secret-that-is-long-enough-for-hs256")
    cases = [
        (Settings(frontend_dir=tmp_path), (False, False)),
        (Settings(frontend_dir=tmp_path, token_secret=secret), (True, False)),
        (
            Settings(frontend_dir=tmp_path, token_secret=secret, dev_token_minting=True),
            (True, True),
        ),
    ]
    for settings, expected in cases:
        with serve_in_thread(settings) as server:
            config = httpx2.get(f"{server.http_url}/api/config").json()
            minted = httpx2.post(f"{server.http_url}/api/tokens", json={"subject": "ann"})
        assert (config["signed_tokens"], config["token_minting"]) == expected
        assert (minted.status_code == 201) is config["token_minting"], minted.text
