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
    assert redacted("postgresql://u:p%40w@db1:5432,db2:5432/cc") == "postgresql://u@db1:5432,db2:5432/cc"
    assert redacted("postgresql://db1/cc?sslmode=require") == "postgresql://db1/cc?sslmode=require"


def test_the_reason_libpq_gives_is_said_without_the_address_it_tried():
    from contiple_tui.store.postgres import short_reason

    refused = (
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs…'
    )
    assert short_reason(Exception(refused)) == "Connection refused"
    lost = "consuming input failed: server closed the connection unexpectedly"
    assert short_reason(Exception(lost)) == "server closed the connection unexpectedly"
    denied = 'connection failed: ... failed: FATAL:  password authentication failed for user "cc"'
    assert short_reason(Exception(denied)) == 'password authentication failed for user "cc"'
    assert short_reason(Exception("")) == "Exception"


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


def test_store_copy_moves_a_center_to_postgresql_ids_and_all(tmp_path, pg_server):
    from contiple_tui.core import callbacks as cb
    from contiple_tui.core.session import resolve_user
    from contiple_tui.sim import demo

    from .conftest import FIXED_NOW

    data = tmp_path / "center"
    lite = Store.in_dir(data)
    demo.seed(lite, callbacks=500, agents=6, now=FIXED_NOW.timestamp(), sms=True)
    lite.close()
    before = (data / DB_FILENAME).read_bytes()
    url = pg_server.create_database()

    copied = run_cli("--data-dir", str(data), "store", "copy", "--to", url)
    assert copied.returncode == 0, copied.stderr
    assert "copied callbacks: 500 rows" in copied.stdout
    assert "Verified: 17 tables" in copied.stdout
    assert (data / DB_FILENAME).read_bytes() == before  # the SQLite store is left as it was

    lite, pg = Store(data / DB_FILENAME), Store(url)
    try:
        admin_lite, admin_pg = resolve_user(lite, "admin"), resolve_user(pg, "admin")
        for service in lite.services.list():
            on_pg = pg.services.get_by_code(service.code)
            assert on_pg is not None and on_pg.id == service.id
            query = cb.CallbackQuery(date_from=None, date_to=None)
            assert cb.search(lite, admin_lite, service, query, limit=1000) == cb.search(
                pg, admin_pg, on_pg, query, limit=1000
            )
            # The kept counts are rebuilt from the rows, not copied.
            assert lite.callbacks.count_by_status(service.id) == pg.callbacks.count_by_status(service.id)
        # New rows continue after the copied ids.
        cs = pg.services.get_by_code("cs")
        assert cs is not None
        _, new_id = cb.intake(
            pg,
            cs,
            request_id="after-copy-1",
            phone="01099990000",
            name=None,
            ivr_route=None,
            requested_at=FIXED_NOW,
        )
        assert new_id == 501
    finally:
        lite.close()
        pg.close()

    again = run_cli("--data-dir", str(data), "store", "copy", "--to", url)
    assert again.returncode == 2
    assert "not empty" in again.stderr


def test_the_demo_seeds_a_postgresql_database(tmp_path, pg_server):
    url = pg_server.create_database()
    seeded = run_cli("--data-dir", str(tmp_path), "--db", url, "demo", "--seed-only", "--callbacks", "300")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip() == url  # where the demo is (a password would not be shown)
    store = Store(url)
    try:
        cs = store.services.get_by_code("cs")
        assert cs is not None and store.users.get_by_login("admin") is not None
        with store.db.read() as conn:
            assert conn.execute("SELECT count(*) FROM callbacks").fetchone()[0] == 300
        # The kept counts and the ids' continuation were rebuilt after the bulk load.
        assert (
            sum(
                store.callbacks.count_by_status(s.id)[status]
                for s in store.services.list()
                for status in store.callbacks.count_by_status(s.id)
            )
            == 300
        )
    finally:
        store.close()
    reset = run_cli("--data-dir", str(tmp_path), "--db", url, "demo", "--reset", "--seed-only")
    assert reset.returncode == 2 and "dropdb" in reset.stderr


def test_postgresql_finds_a_phone_part_through_the_trigram_index(pg_server, demo_template_pg):
    """The query shape the list runs for a phone part can use pg_trgm's index (the planner chooses it for
    a selective part at scale: bench/bench_postgres.py); at the tests' few hundred rows a sequential scan
    is cheaper, so it is switched off here to ask whether the index applies at all."""
    from contiple_tui.domain.queries import CallbackQuery
    from contiple_tui.store.postgres import to_pg

    url = pg_server.create_database(template=demo_template_pg)
    store = Store(url)
    try:
        cs = store.services.get_by_code("cs")
        assert cs is not None
        sql, args = store.callbacks._count_sql(cs.id, None, CallbackQuery(phone="671401"), None, None)
        with psycopg.connect(url) as conn:
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + to_pg(sql), args))
        assert "callbacks_phone_trgm" in plan, plan
    finally:
        store.close()
        pg_server.drop_database(url)
