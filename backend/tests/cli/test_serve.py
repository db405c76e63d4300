"""``python -m app``: what it refuses to start with, and says why."""

import os
import subprocess
import sys

from app.settings import REPOSITORY_ROOT


def test_several_workers_without_redis_refuse_to_start_and_say_why() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=REPOSITORY_ROOT / "backend",
        env={**os.environ, "APP_WORKERS": "2", "APP_PORT": "1"},  # never reaches the port
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "APP_WORKERS=2 needs APP_REDIS_URL" in result.stderr
    assert "a ticket issued by one worker would be refused by another" in result.stderr
