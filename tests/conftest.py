"""Shared fixtures: a real SQLite store in a temporary directory, seeded with the demo world."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contiple_tui.i18n import set_language
from contiple_tui.sim import demo
from contiple_tui.store import DB_FILENAME, Store

# A fixed moment for everything that shows time: 2026-11-25 10:30:00 in Seoul.
FIXED_NOW = datetime(2026, 11, 25, 1, 30, 0, tzinfo=UTC)

# Keep the user's own configuration and locale out of every test.
os.environ.pop("CONTIPLE_TUI_HOME", None)
os.environ.pop("NO_COLOR", None)
# English unless a test asks for Korean (a locale naming no language now means Korean, the product's).
os.environ["LANG"] = "en_US.UTF-8"
os.environ.pop("LC_ALL", None)
os.environ.pop("LC_MESSAGES", None)
for _var in (
    "LANG",
    "THEME",
    "CTI_URL",
    "CTI_TOKEN",
    "SMS_GATEWAY",
    "NHN_BASE_URL",
    "NHN_APP_KEY",
    "NHN_SECRET_KEY",
):
    os.environ.pop(f"CONTIPLE_TUI_{_var}", None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database seeded once per test session; tests get copies."""
    path = tmp_path_factory.mktemp("demo-template") / DB_FILENAME
    store = Store(path)
    # Without the demo's SMS world: SMS tests build exactly the templates and sends they need.
    demo.seed(store, callbacks=400, agents=12, now=FIXED_NOW.timestamp(), sms=False)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def demo_dir(tmp_path: Path, demo_template: Path) -> Path:
    """A data directory holding a private copy of the demo database."""
    shutil.copy(demo_template, tmp_path / DB_FILENAME)
    return tmp_path


@pytest.fixture
def demo_store(demo_dir: Path):
    store = Store(demo_dir / DB_FILENAME)
    yield store
    store.close()


@pytest.fixture
def empty_store(tmp_path: Path):
    store = Store(tmp_path / DB_FILENAME)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _english_by_default():
    set_language("en")
    yield
    set_language("en")


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess, as a person or a cron job would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONTIPLE_TUI_")}
    full_env.update({"LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8"})  # English, which the tests read
    full_env.pop("LC_ALL", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "contiple_tui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
