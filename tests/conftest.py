"""Shared fixtures: a real store, seeded with the demo world: a SQLite file in a temporary directory, or,
for the tests marked ``both_engines``, also a database of a real PostgreSQL server the tests start
(tests/pgserver.py)."""

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


ENGINES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: run the test's store fixtures on SQLite and on PostgreSQL"
    )
    config.addinivalue_line("markers", "sqlite_only: SQLite's own behaviour (its planner, its file)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marks = metafunc.definition
    if (
        "engine" in metafunc.fixturenames
        and marks.get_closest_marker("both_engines")
        and not marks.get_closest_marker("sqlite_only")
    ):
        metafunc.parametrize("engine", ENGINES, indirect=True)


def integrity_errors() -> tuple[type[Exception], ...]:
    """What either engine raises when the schema itself refuses a row."""
    import sqlite3

    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


def scalar(store: Store, sql: str, args: tuple = ()) -> object:
    """One value read from the store, on either engine."""
    with store.db.read() as conn:
        return conn.execute(sql, args).fetchone()[0]


def store_args(store: Store) -> list[str]:
    """The command line's options that open ``store``: its data directory, and its database's URL."""
    return ["--data-dir", str(store.data_dir)] + (["--db", store.url] if store.url else [])


def write_elsewhere(store: Store, *statements: tuple[str, tuple], foreign_keys: bool = True) -> None:
    """``statements`` committed by another connection, as another process (or a person with psql) would."""
    if store.url is not None:
        import psycopg

        with psycopg.connect(store.url) as conn:  # one transaction, committed on leaving
            if not foreign_keys:
                conn.execute("SET session_replication_role = replica")  # the tests' server: a superuser
            from contiple_tui.store.postgres import to_pg

            for sql, args in statements:
                conn.execute(to_pg(sql), args)
        return
    import sqlite3

    assert store.path is not None
    conn = sqlite3.connect(store.path)
    if not foreign_keys:
        conn.execute("PRAGMA foreign_keys = OFF")
    for sql, args in statements:
        conn.execute(sql, args)
    conn.commit()
    conn.close()


def read_elsewhere(store: Store, sql: str, args: tuple = ()) -> tuple | None:
    """One row read by another connection, as another process would read it."""
    if store.url is not None:
        import psycopg

        from contiple_tui.store.postgres import to_pg

        with psycopg.connect(store.url) as conn:
            return conn.execute(to_pg(sql), args).fetchone()
    import sqlite3

    assert store.path is not None
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


def location(store: Store) -> str:
    """What another process opens to reach the same database: the SQLite file or the PostgreSQL URL."""
    return store.url or str(store.path)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of ``demo_store`` / ``empty_store``: SQLite, or each of the two for ``both_engines``."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of this test process (skipped when none can start here, unless CI requires it)."""
    from tests.pgserver import PgServer, skip_unless_available

    skip_unless_available()
    server = PgServer().start()
    yield server
    server.close()


@pytest.fixture
def cli(engine: str, request: pytest.FixtureRequest):
    """``run_cli`` on the test's engine: the data directory's SQLite file, or (``both_engines``) a fresh
    PostgreSQL database given as CONTIPLE_TUI_DB_URL, as an operator's environment would give it."""
    extra: dict[str, str] = {}
    if engine == "postgresql":
        extra["CONTIPLE_TUI_DB_URL"] = request.getfixturevalue("pg_server").create_database()

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, env={**extra, **(env or {})})

    run.db_url = extra.get("CONTIPLE_TUI_DB_URL")  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="session")
def demo_template_pg(pg_server) -> str:
    """The demo world in a PostgreSQL database, seeded once per test process; tests get copies."""
    url = pg_server.create_database("demo_template")
    store = Store(url)
    demo.seed(store, callbacks=400, agents=12, now=FIXED_NOW.timestamp(), sms=False)
    store.close()
    return url.rsplit("/", 1)[1]


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


def _store(engine: str, request: pytest.FixtureRequest, demo: bool):
    """A test's own store on ``engine``, a copy of the demo or empty; closed (its PostgreSQL database
    dropped) after."""
    if engine == "postgresql":
        server = request.getfixturevalue("pg_server")
        url = server.create_database(template=request.getfixturevalue("demo_template_pg") if demo else None)
        store = Store(url)
        store.data_dir = request.getfixturevalue("tmp_path")  # config, logs and exports
        yield store
        store.close()
        server.drop_database(url)
        return
    store = Store(request.getfixturevalue("demo_dir" if demo else "tmp_path") / DB_FILENAME)
    yield store
    store.close()


@pytest.fixture
def demo_store(engine: str, request: pytest.FixtureRequest):
    yield from _store(engine, request, demo=True)


@pytest.fixture
def empty_store(engine: str, request: pytest.FixtureRequest):
    yield from _store(engine, request, demo=False)


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
