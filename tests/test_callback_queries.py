"""The callback list's SQL at any size: every filter combination is one index range, keyset pages are exact.

A million callbacks make a full scan of the table cost a second; these tests pin the query plans SQLite
chooses (they depend on the indexes and the SQL, not on the amount of data: the store never runs
ANALYZE), and the indexes' migration on a database made before it.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import date, datetime

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.store import DB_FILENAME, SCHEMA_VERSION, Store
from contiple_tui.store.connection import _split_sql
from contiple_tui.store.migrations import APPLICATION_ID, MIGRATIONS

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

LIST_INDEXES = ("callbacks_list", "callbacks_list_status", "callbacks_list_assignee")


@pytest.fixture
def world(demo_store):
    users = {u.login: u for u in demo_store.users.list()}
    return demo_store, users, demo_store.services.get_by_code("cs")


def _queries(users):
    """Every combination of the list's filters (each on or off), as the screen can make them."""
    filters = {
        "period": {"date_from": date(2026, 10, 1), "date_to": date(2026, 11, 25)},
        "status": {"status": CallbackStatus.ASSIGNED},
        "ivr": {"ivr_route": "2"},
        "phone": {"phone": "010-12"},
        "assignee": {"assignee_id": users["agent02"].id},
        "assigner": {"assigner_id": users["admin"].id},
    }
    for picked in itertools.product((False, True), repeat=len(filters)):
        fields = {}
        for on, values in zip(picked, filters.values()):
            if on:
                fields.update(values)
        yield ",".join(name for on, name in zip(picked, filters) if on) or "none", cb.CallbackQuery(**fields)


@pytest.mark.sqlite_only  # SQLite's query plans
def test_every_filter_combination_is_one_index_range(world):
    store, users, cs = world
    checked = 0
    for scope in (None, users["agent02"].id):  # admin: the whole service; agent: own callbacks
        for label, query in _queries(users):
            lo, hi = cb.day_range(cs, query.date_from, query.date_to)
            for after in (None, (1_800_000_000, 5_000)):
                search, count = store.callbacks.explain(cs.id, scope, query, lo, hi, after)
                where = f"{label} scope={scope} after={after}"
                if "phone" in label:
                    # A phone part held by few callbacks: their rowids from the trigram index, then those
                    # rows alone (a few hundred at most), never a walk over the period.
                    for plan in (search, count):
                        assert plan[0] == "SEARCH callbacks USING INTEGER PRIMARY KEY (rowid=?)", (
                            where,
                            plan,
                        )
                        assert any("callbacks_phone VIRTUAL TABLE" in step for step in plan), (where, plan)
                        assert not any(step.startswith("SCAN callbacks ") for step in plan), (where, plan)
                    checked += 1
                    continue
                # One range of one list index, already in the list's order: no table scan, no sort.
                assert len(search) == 1, (where, search)
                assert search[0].startswith("SEARCH callbacks USING INDEX callbacks_list"), (where, search)
                assert "service_id=?" in search[0], (where, search)
                # Counting reads an index only, never the table.
                assert len(count) == 1 and "COVERING INDEX" in count[0], (where, count)
                checked += 1
    assert checked == 2 * 64 * 2


@pytest.mark.sqlite_only  # SQLite's query plans
def test_a_common_phone_part_walks_the_list_index_in_order(world, monkeypatch):
    """Digits most numbers hold ("010") match densely: the list index walked in the list's order finds a
    page at once, where thousands of trigram matches would each be read and sorted."""
    from contiple_tui.store import callbacks as repo

    store, users, cs = world
    monkeypatch.setattr(repo, "PHONE_SPARSE_MAX", 10)
    store.callbacks._sparse.clear()
    query = cb.CallbackQuery(phone="010")
    search, count = store.callbacks.explain(cs.id, None, query, None, None)
    assert len(search) == 1 and search[0].startswith("SEARCH callbacks USING INDEX callbacks_list"), search
    rows = store.callbacks.search(cs.id, None, query, None, None, None, 50)
    assert rows and all("010" in row[3] for row in rows)
    # One or two digits cannot use trigrams: the same ordered walk.
    assert not store.callbacks._is_sparse(store.db.conn, "01")


def test_the_phone_part_finds_the_same_callbacks_either_way(world, monkeypatch):
    from contiple_tui.store import callbacks as repo

    store, users, cs = world
    for digits in ("010", "1234", "5678", "01012", "99"):
        query = cb.CallbackQuery(phone=digits)
        found = {}
        for limit in (10**9, 0):  # every part sparse, then none
            monkeypatch.setattr(repo, "PHONE_SPARSE_MAX", limit)
            store.callbacks._sparse.clear()
            rows = store.callbacks.search(cs.id, None, query, None, None, None, 10**6)
            found[limit] = ([row[0] for row in rows], store.callbacks.count(cs.id, None, query, None, None))
        assert found[10**9] == found[0], digits
        assert found[0][1] == len(found[0][0])


def test_kept_counts_equal_the_counted_rows_after_every_kind_of_change(world):
    """Intake, merge, assignment, unassignment, completion and deletion keep callback_totals and
    callback_days equal to what counting the callbacks gives, for any period, status and assignee."""
    store, users, cs = world
    admin, agent = users["admin"], users["agent02"]
    service = store.services.get_by_code("cs")
    for n in range(30):
        cb.intake(
            store,
            service,
            request_id=f"kc-{n}",
            phone=f"0109999{n % 12:04d}",
            name=None,
            ivr_route=None,
            requested_at=datetime.fromisoformat(f"2026-11-{1 + n % 25:02d}T{n % 24:02d}:15:00+09:00"),
        )
    fresh = [c.id for c in cb.search(store, admin, service, cb.CallbackQuery(phone="0109999"), limit=100)]
    cb.assign_equal(store, admin, service, fresh[:12], [agent.id])
    cb.unassign(store, admin, service, [fresh[0]])
    cb.complete(store, agent, service, fresh[1:4])
    store.db.run_write(lambda conn: conn.execute("DELETE FROM callbacks WHERE id = ?", (fresh[-1],)))

    def counted(sql_where, args):
        with store.db.read() as conn:
            return conn.execute(f"SELECT count(*) FROM callbacks WHERE {sql_where}", args).fetchone()[0]

    for status in CallbackStatus:
        assert store.callbacks.count_by_status(cs.id)[status] == counted(
            "service_id = ? AND status = ?", (cs.id, str(status))
        )
        assert store.callbacks.count_by_status(cs.id, agent.id)[status] == counted(
            "service_id = ? AND status = ? AND assignee_id = ?", (cs.id, str(status), agent.id)
        )
    with store.db.read() as conn:
        bad = conn.execute(
            "SELECT * FROM (SELECT d.service_id, d.day, d.status, d.assignee_key, d.n, "
            "(SELECT count(*) FROM callbacks c WHERE c.service_id = d.service_id AND c.requested_at / 86400 "
            "= d.day "
            " AND c.status = d.status AND coalesce(c.assignee_id, 0) = d.assignee_key) AS counted "
            "FROM callback_days d) AS kept WHERE n != counted"
        ).fetchall()
    assert bad == []
    lo, hi = cb.day_range(cs, date(2026, 11, 3), date(2026, 11, 20))
    for scope in (None, agent.id):
        for status in (None, *CallbackStatus):
            query = cb.CallbackQuery(status=status)
            sql, args = store.callbacks._count_sql(cs.id, scope, query, lo, hi)
            with store.db.read() as conn:
                want = conn.execute(sql, args).fetchone()[0]
            assert store.callbacks.count(cs.id, scope, query, lo, hi) == want, (scope, status)


@pytest.mark.sqlite_only  # SQLite's query plans
def test_page_after_a_keyset_position_starts_there(world):
    """Page n is a range that starts where page n-1 ended, not a walk over the n-1 pages before it."""
    store, users, cs = world
    search, _ = store.callbacks.explain(cs.id, None, cb.CallbackQuery(), None, None, (1_800_000_000, 5_000))
    assert "requested_at<?" in search[0]


@pytest.mark.sqlite_only  # SQLite's query plans
def test_intake_finds_the_open_callback_by_the_phone_index(world):
    store, users, cs = world
    plan = [
        row[3]
        for row in store.db.conn.execute(
            f"EXPLAIN QUERY PLAN {store.callbacks._open_for_phone}", (cs.id, "0101")
        )
    ]
    assert plan[0].startswith("SEARCH callbacks USING INDEX callbacks_active_phone"), plan


def test_keyset_pages_over_equal_request_times(world):
    """Hundreds of callbacks requested in the same second page exactly once each, in id order."""
    store, users, cs = world
    at = int(cb.day_range(cs, date(2026, 11, 24), None)[0]) + 3600
    first = None

    def load(conn):
        nonlocal first
        first = store.callbacks.max_id(conn) + 1
        rows = [
            (
                first + i,
                cs.id,
                f"same-{i}",
                f"0105555{i:04d}",
                None,
                "1",
                at,
                at,
                1,
                "unassigned",
                None,
                None,
                None,
                0,
                None,
                None,
                None,
            )
            for i in range(250)
        ]
        store.callbacks.bulk_insert(conn, rows, [])

    store.db.run_write(load)
    admin = users["admin"]
    query = cb.CallbackQuery(date_from=date(2026, 11, 24), date_to=date(2026, 11, 24), phone="0105555")
    seen, after = [], None
    while page := cb.search(store, admin, cs, query, after=after, limit=37):
        seen += [c.id for c in page]
        after = (page[-1].requested_at, page[-1].id)
    assert seen == list(range(first + 249, first - 1, -1))
    assert cb.count(store, admin, cs, query) == 250


def _migration_index() -> int:
    """This migration's position (appended after others; its number is not assumed)."""
    return next(i for i, sql in enumerate(MIGRATIONS) if "CREATE INDEX callbacks_list_assignee" in sql)


def test_database_from_before_the_list_indexes_migrates(tmp_path):
    """A store made before the list indexes keeps its callbacks and gets the indexes, the old ones gone."""
    path = tmp_path / "old" / DB_FILENAME
    path.parent.mkdir()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number in range(_migration_index()):
        for statement in _split_sql(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {_migration_index()}")
    conn.execute("INSERT INTO services (id, code, name, created_at) VALUES (1, 'cs', '고객센터', 0)")
    conn.executemany(
        "INSERT INTO callbacks (service_id, cti_request_id, customer_phone, requested_at, last_requested_at) "
        "VALUES (1, ?, ?, ?, ?)",
        [(f"old-{i}", f"0101234{i:04d}", 1_790_000_000 + i, 1_790_000_000 + i) for i in range(50)],
    )
    before = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "callbacks_service_requested" in before and "callbacks_list" not in before
    conn.close()

    store = Store(path)
    try:
        assert store.db.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
        after = {r[0] for r in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(LIST_INDEXES) <= after
        assert not after & {
            "callbacks_service_requested",
            "callbacks_service_status",
            "callbacks_assignee",
            "callbacks_assigner",
            "callbacks_service_assignee",
        }
        rows = store.callbacks.search(1, None, cb.CallbackQuery(phone="1234"), None, None, None, 100)
        assert [r[0] for r in rows] == list(range(50, 0, -1))
        assert store.integrity_ok()
    finally:
        store.close()
