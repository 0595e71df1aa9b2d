"""The two engines hold the same schema; PostgreSQL's own refusals (a newer or foreign database, a server
that cannot be reached) are one clear line; the command line opens a PostgreSQL database with --db."""

from __future__ import annotations

import time

import pytest

from contiple_tui.errors import StoreError
from contiple_tui.store import DB_FILENAME, SCHEMA_VERSION, Store
from contiple_tui.store.migrations import MIGRATIONS
from contiple_tui.store.pg_schema import PG_MIGRATIONS, SCHEMA_TABLE
from contiple_tui.store.postgres import redacted, to_pg

from .conftest import run_cli
from .pgserver import skip_unless_available

try:
    import psycopg
except ImportError:  # the test extra has it; without it the PostgreSQL tests say so (or fail on CI)
    psycopg = None


def test_both_engines_have_the_same_migrations():
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION


def test_the_same_tables_and_columns_on_both_engines(tmp_path, pg_server):
    lite = Store(tmp_path / DB_FILENAME)
    with lite.db.read() as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'callbacks_phone%'"  # FTS5's own tables: pg_trgm's index instead
            )
        ]
        sqlite_columns = {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    lite.close()
    url = pg_server.create_database()
    pg = Store(url)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name != %s ORDER BY table_name, ordinal_position",
            (SCHEMA_TABLE,),
        ).fetchall()
    pg.close()
    pg_columns: dict[str, list[str]] = {}
    for table, column in rows:
        pg_columns.setdefault(table, []).append(column)
    assert pg_columns == sqlite_columns


def test_a_newer_postgresql_database_is_refused_untouched(pg_server):
    url = pg_server.create_database()
    Store(url).close()
    with psycopg.connect(url) as conn:
        conn.execute(f"UPDATE {SCHEMA_TABLE} SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError) as info:
        Store(url)
    assert info.value.key == "err.db_newer"
    with psycopg.connect(url) as conn:
        assert conn.execute(f"SELECT version FROM {SCHEMA_TABLE}").fetchone()[0] == SCHEMA_VERSION + 1


def test_another_programs_postgresql_database_is_refused_untouched(pg_server):
    url = pg_server.create_database()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError) as info:
        Store(url)
    assert info.value.key == "err.db_foreign"
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert names == ["invoices"]


def test_a_server_that_is_not_there_is_one_clear_error_at_once():
    skip_unless_available()
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        Store("postgresql://contiple:secret@127.0.0.1:1/nowhere")
    assert info.value.key == "err.pg_unreachable"
    assert "secret" not in str(info.value)  # the password is never shown
    assert time.monotonic() - started < 15


def test_placeholders_and_percent_signs_reach_postgresql_as_written():
    skip_unless_available()
    assert to_pg("SELECT ? WHERE a LIKE '10%' AND b = ?") == "SELECT %s WHERE a LIKE '10%%' AND b = %s"
    assert to_pg("SELECT 'what?' , ?") == "SELECT 'what?' , %s"
    assert to_pg("SELECT 'it''s ?', 5 % 2") == "SELECT 'it''s ?', 5 %% 2"
    assert redacted("postgresql://u:pw@db.example:5432/cc") == "postgresql://u@db.example:5432/cc"


def test_the_command_line_works_on_a_postgresql_database(tmp_path, pg_server):
    url = pg_server.create_database()
    added = run_cli(
        "--data-dir", str(tmp_path), "--db", url, "services", "add", "--code", "cs", "--name", "고객센터"
    )
    assert added.returncode == 0, added.stderr
    listed = run_cli("--data-dir", str(tmp_path), "services", "list", env={"CONTIPLE_TUI_DB_URL": url})
    assert listed.returncode == 0, listed.stderr
    assert "고객센터" in listed.stdout
    assert not (tmp_path / DB_FILENAME).exists()  # no SQLite file beside it
    refused = run_cli("--data-dir", str(tmp_path), "--db", "mysql://x/y", "services", "list")
    assert refused.returncode != 0
    assert "not a PostgreSQL address" in refused.stderr
