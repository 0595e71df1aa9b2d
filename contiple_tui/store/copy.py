"""Moving a center's SQLite store to PostgreSQL (``contiple-tui store copy --to postgresql://…``).

Every table of data, with its ids, in one PostgreSQL transaction (a failure leaves the target as it was:
empty), then verified table by table: the same number of rows and the same checksum over every value,
read back from both sides in primary-key order. What is derived is rebuilt rather than copied: the kept
counts, the phone index (FTS5 there, pg_trgm here), the change versions; intake leases are not copied
(their holders are the old store's consoles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from contiple_tui.errors import StoreError
from contiple_tui.store.connection import _split_sql
from contiple_tui.store.engine import Conn, Engine
from contiple_tui.store.pg_schema import REBUILD_DERIVED
from contiple_tui.store.postgres import loading, reset_identities

# In an order that keeps every foreign key pointing at rows already there (categories by id: a parent
# is always older than its children).
COPIED_TABLES = (
    "services",
    "sender_numbers",
    "ivr_routes",
    "users",
    "user_services",
    "callbacks",
    "callback_history",
    "tickets",
    "callback_requests",
    "meta",
    "sms_categories",
    "sms_templates",
    "sms_template_images",
    "sms_messages",
    "sms_message_images",
    "sms_recipients",
    "audit",
)
WITH_IDS: tuple[str, ...] = ("services", "users", "callbacks", "callback_history", "tickets")
WITH_IDS += ("sms_categories", "sms_templates", "sms_messages", "sms_recipients", "audit")
BATCH = 5000


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    checksum: str


def _columns(conn: Conn, table: str) -> tuple[list[str], list[str], list[str]]:
    """(all columns, the primary key's order on SQLite, the same order on PostgreSQL) of a table.

    Text keys are ordered byte by byte on both sides (SQLite's BINARY, PostgreSQL's "C"), whatever the
    collation the PostgreSQL database was created with, so both read the rows in one order."""
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    columns = [row[1] for row in info]
    key = sorted((r for r in info if r[5]), key=lambda r: r[5])
    lite = [row[1] for row in key]
    pg = [f'{row[1]} COLLATE "C"' if row[2].upper() == "TEXT" else row[1] for row in key]
    return columns, lite, pg


def _rows(conn: Any, sql: str) -> Iterator[tuple]:
    cur = conn.execute(sql, ())
    while True:
        batch = cur.fetchmany(BATCH)
        if not batch:
            return
        yield from batch


def _value(value: object) -> bytes:
    """One value as the checksum sees it: the same on both engines for the same stored value."""
    if value is None:
        return b"\x00N"
    if isinstance(value, bytes | bytearray | memoryview):
        return b"\x00B" + bytes(value)
    if isinstance(value, float):
        return b"\x00F" + repr(value).encode()
    if isinstance(value, int):
        return b"\x00I" + str(value).encode()
    return b"\x00T" + str(value).encode("utf-8", "surrogatepass")


def _digest(rows: Iterator[tuple]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        count += 1
        for value in row:
            digest.update(_value(value))
        digest.update(b"\x01")
    return count, digest.hexdigest()


def copy_to_postgres(
    source: Engine, target: Engine, progress: Callable[[str, int], None] = lambda table, rows: None
) -> list[TableCopy]:
    """Copy every table of ``source`` (SQLite) into ``target`` (an empty PostgreSQL store), then verify.

    Raises StoreError("err.copy_target_not_empty") when the target already holds data, and
    StoreError("err.copy_mismatch") when a table read back differs (the copy is then rolled back)."""
    if source.dialect.postgres or not target.dialect.postgres:
        raise StoreError("err.copy_direction")
    plan: list[tuple[str, list[str], list[str], list[str]]] = []
    with source.read() as lite:
        for table in COPIED_TABLES:
            plan.append((table, *_columns(lite, table)))
    done: list[TableCopy] = []
    with target.write() as pg:
        raw = pg.raw  # type: ignore[attr-defined]
        for table in COPIED_TABLES:
            if raw.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] and table != "meta":
                raise StoreError("err.copy_target_not_empty", table=table)
        raw.execute("DELETE FROM meta")
        with source.read() as lite, loading(raw, COPIED_TABLES):
            for table, columns, key, _ in plan:
                names = ", ".join(columns)
                order = ", ".join(key)
                count = 0
                with raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in _rows(lite, f"SELECT {names} FROM {table} ORDER BY {order}"):
                        copy.write_row(row)
                        count += 1
                progress(table, count)
        for statement in _split_sql(REBUILD_DERIVED):
            raw.execute(statement)
        reset_identities(raw, WITH_IDS)
        raw.execute("UPDATE change_versions SET version = version + 1")
        # Verified inside the same transaction: a difference rolls the whole copy back.
        with source.read() as lite:
            for table, columns, key, pg_key in plan:
                names = ", ".join(columns)
                rows, checksum = _digest(
                    _rows(lite, f"SELECT {names} FROM {table} ORDER BY {', '.join(key)}")
                )
                copied_rows, copied_checksum = _digest(
                    _rows(raw, f"SELECT {names} FROM {table} ORDER BY {', '.join(pg_key)}")
                )
                if (rows, checksum) != (copied_rows, copied_checksum):
                    raise StoreError("err.copy_mismatch", table=table, rows=rows, copied=copied_rows)
                done.append(TableCopy(table, rows, checksum))
    with target.write() as pg:
        pg.execute("ANALYZE")
    return done
