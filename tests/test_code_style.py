"""The tools that keep the code in shape run with the suite (settings in pyproject.toml): ruff's lint
rules, its formatter (lines of at most 110 characters) and mypy over the layers below the UI."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ["contiple_tui", "tests", "bench"]


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_ruff_finds_nothing():
    out = _run("ruff", "check", "--no-cache", *TREES)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_the_code_is_formatted():
    out = _run("ruff", "format", "--check", "--no-cache", *TREES)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_mypy_finds_nothing(tmp_path):
    out = _run("mypy", "--cache-dir", str(tmp_path / "mypy"))  # the files: [tool.mypy] in pyproject.toml
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "Success" in out.stdout
