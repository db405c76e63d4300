"""The layers of backend/app (pyproject.toml's import-linter contract): kept, and a back-edge
added to a copy of the package breaks them, so the rule in the test command can fail."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.settings import REPOSITORY_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(REPOSITORY_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_are_kept() -> None:
    result = lint(REPOSITORY_ROOT / "backend")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_back_edge_breaks_them(tmp_path: Path) -> None:
    shutil.copytree(REPOSITORY_ROOT / "backend" / "app", tmp_path / "app")
    leaf = tmp_path / "app" / "vocabulary" / "refusals.py"
    leaf.write_text(leaf.read_text() + "\nimport app.channels.hub  # a back-edge\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "app.vocabulary is not allowed to import app.channels" in result.stdout
