"""The SQLite store: migrations, refusal of files it must not touch, several processes at once."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path

import pytest

from contiple_tui.core import directory
from contiple_tui.errors import StoreError
from contiple_tui.store import DB_FILENAME, SCHEMA_VERSION, Store
from contiple_tui.store.migrations import APPLICATION_ID, LEASE_TOPIC

from .conftest import location

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrates_empty_file(tmp_path):
    store = Store(tmp_path / DB_FILENAME)
    assert store.db.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "services",
        "users",
        "user_services",
        "callbacks",
        "callback_history",
        "tickets",
        "meta",
    } <= tables
    assert store.db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    store.close()
    # Opening again is a no-op.
    again = Store(tmp_path / DB_FILENAME)
    assert again.db.schema_version() == SCHEMA_VERSION
    again.close()


def test_refuses_newer_schema_without_touching_it(tmp_path):
    path = tmp_path / DB_FILENAME
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError) as err:
        Store(path)
    assert err.value.key == "err.db_newer"
    assert "newer" in err.value.message("en") and "새롭" in err.value.message("ko")
    assert _digest(path) == before


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 5000]
)
def test_refuses_corrupt_file_without_touching_it(tmp_path, content):
    path = tmp_path / DB_FILENAME
    path.write_bytes(content)
    with pytest.raises(StoreError) as err:
        Store(path)
    assert err.value.key == "err.db_corrupt"
    assert path.read_bytes() == content
    assert not Path(f"{path}-wal").exists()


def test_refuses_another_programs_database(tmp_path):
    path = tmp_path / DB_FILENAME
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError) as err:
        Store(path)
    assert err.value.key == "err.db_foreign"
    assert _digest(path) == before


def test_failed_action_changes_nothing(empty_store):
    directory.add_service(empty_store, code="cs", name="고객센터")

    def half_then_fail(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        empty_store.db.run_write(half_then_fail)
    assert empty_store.get_meta("x") is None


# -- several processes ---------------------------------------------------------------------------


def _increment(path: str, times: int, barrier) -> None:
    store = Store(path)
    barrier.wait()
    for _ in range(times):

        def bump(conn):
            row = conn.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
            value = int(row[0]) + 1 if row else 1
            store.set_meta(conn, "counter", str(value))

        store.db.run_write(bump)
    store.close()


def _increment_at_once(path: str, processes: int, times: int) -> None:
    """``processes`` processes, started together, each bump the counter ``times`` times; all succeed."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    procs = [ctx.Process(target=_increment, args=(path, times, barrier)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0


def test_processes_read_modify_write_without_lost_updates(tmp_path):
    path = str(tmp_path / DB_FILENAME)
    Store(path).close()
    _increment_at_once(path, 4, 150)
    store = Store(path)
    assert store.get_meta("counter") == "600"
    assert store.integrity_ok()
    store.close()


def _add_service_later(path: str, delay: float) -> None:
    time.sleep(delay)
    store = Store(path)
    directory.add_service(store, code="late", name="나중 서비스")
    store.close()


def test_change_by_another_process_is_detected(tmp_path):
    path = tmp_path / DB_FILENAME
    store = Store(path)
    watcher = store.watcher()
    assert not watcher.changed()
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_add_service_later, args=(str(path), 0.2))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    assert watcher.changed()
    assert not watcher.changed()  # reported once
    assert store.services.get_by_code("late") is not None
    watcher.close()
    store.close()


def test_own_commits_are_seen_by_the_watcher(empty_store):
    watcher = empty_store.watcher()
    directory.add_service(empty_store, code="cs", name="고객센터")
    assert _changes_within(watcher)
    watcher.close()


def test_the_watcher_names_the_topics_that_changed_and_ignores_the_rest(demo_store):
    """A commit of the feed position or of a lease changes no topic of data: no console reloads for it.
    Each table's writes move its own topic on, whichever connection made them."""
    watcher = demo_store.watcher()
    demo_store.db.run_write(lambda conn: demo_store.set_meta(conn, "cti.feed_position", "e:5"))
    assert demo_store.leases.acquire("intake", "me", 1000.0, 6.0)
    time.sleep(0.2)
    # No topic of data; PostgreSQL also announces the lease (for the feed intake, never a view).
    assert watcher.changes() - {LEASE_TOPIC} == frozenset()
    other = Store(location(demo_store))
    other.db.run_write(
        lambda c: c.execute(
            "UPDATE callbacks SET attempts = attempts + 1 WHERE id = (SELECT min(id) FROM callbacks)"
        )
    )
    # PostgreSQL's NOTIFY reaches the listening connection a moment after the commit.
    assert _changes_within(watcher) == {"callbacks"}
    assert watcher.changes() == frozenset()  # reported once
    time.sleep(0.1)
    assert watcher.changes() == frozenset()

    def two(conn):
        conn.execute("UPDATE users SET name = name WHERE login = 'admin'")
        conn.execute("INSERT INTO sms_categories (service_id, name, created_at) VALUES (1, 'x', 0)")

    other.db.run_write(two)
    assert _changes_within(watcher) == {"directory", "sms_templates"}
    other.close()
    watcher.close()


def _changes_within(watcher, seconds: float = 2.0) -> frozenset[str]:
    """The topics the watcher reports first, waiting for them up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = watcher.changes()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def test_a_lease_is_held_by_one_until_it_expires_is_released_or_its_holder_is_gone(empty_store):
    leases = empty_store.leases
    assert leases.acquire("intake", "a", now=100.0, ttl_s=6.0)
    assert not leases.acquire("intake", "b", now=105.0, ttl_s=6.0)
    assert leases.acquire("intake", "a", now=105.0, ttl_s=6.0)  # renewed until 111
    assert not leases.acquire("intake", "b", now=110.0, ttl_s=6.0)
    assert leases.acquire("intake", "b", now=111.5, ttl_s=6.0)  # expired
    assert leases.holder("intake") == ("b", 117.5)
    assert leases.acquire("intake", "c", now=112.0, ttl_s=6.0, gone=lambda holder: holder == "b")
    leases.release("intake", "b")  # not b's any more: nothing happens
    assert leases.holder("intake")[0] == "c"
    leases.release("intake", "c")
    assert leases.holder("intake") is None


def test_two_processes_migrate_the_same_new_file(tmp_path):
    path = str(tmp_path / DB_FILENAME)
    _increment_at_once(path, 3, 5)
    store = Store(path)
    assert store.db.schema_version() == SCHEMA_VERSION
    assert store.get_meta("counter") == "15"
    store.close()


# -- file modes: the data is the service account's alone ----------------------------------------------


def test_a_new_store_is_private_whatever_the_umask(tmp_path):
    import stat

    old = os.umask(0)  # the most permissive umask an operator's shell could have
    try:
        data = tmp_path / "new" / "data"
        store = Store.in_dir(data)
        store.db.run_write(lambda conn: store.set_meta(conn, "k", "v"))  # the WAL and its index exist now
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == stat.S_IMODE(data.parent.stat().st_mode) == 0o700  # both new
    assert modes[DB_FILENAME] == 0o600
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith(DB_FILENAME)), modes


def test_a_database_others_may_change_is_refused_and_untouched(tmp_path):
    path = tmp_path / DB_FILENAME
    Store(path).close()
    path.chmod(0o664)
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        Store(path)
    message = err.value.message("en")
    assert str(path) in message and "chmod 600" in message and "664" in message
    assert path.read_bytes() == before and not Path(f"{path}-wal").exists()


def test_a_database_created_by_another_process_a_moment_ago_is_opened(tmp_path, monkeypatch):
    """Two consoles start at once on a new data directory: the second finds the file the first just
    made (between its look and its create) and opens it instead of failing."""
    from contiple_tui.store import connection

    path = tmp_path / DB_FILENAME
    real = connection._create_private_file

    def first_one_wins(p):
        real(p)  # "the other process" creates it ...
        real(p)  # ... and this one's own O_EXCL create then finds it there

    monkeypatch.setattr(connection, "_create_private_file", first_one_wins)
    store = Store(path)
    try:
        assert store.db.schema_version() == SCHEMA_VERSION
    finally:
        store.close()
