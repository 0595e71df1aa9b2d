"""SQL for callbacks. The list, assignment and intake queries arrive with the callback issue."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from contiple_tui.core.models import CallbackStatus
from contiple_tui.store.connection import Database

CALLBACK_INSERT_COLUMNS = (
    "id",
    "service_id",
    "cti_request_id",
    "customer_phone",
    "customer_name",
    "ivr_route",
    "requested_at",
    "last_requested_at",
    "request_count",
    "status",
    "assignee_id",
    "assigned_by",
    "assigned_at",
    "attempts",
    "last_attempt_at",
    "completed_at",
    "completed_by",
)
HISTORY_INSERT_COLUMNS = (
    "callback_id",
    "at",
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "from_user",
    "to_user",
)


class CallbackRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def count_by_status(
        self, service_id: int, assignee_id: int | None = None
    ) -> dict[CallbackStatus, int]:
        """Callbacks per status in a service, or only those assigned to ``assignee_id``."""
        with self._db.read() as conn:
            if assignee_id is None:
                rows = conn.execute(
                    "SELECT status, count(*) FROM callbacks WHERE service_id = ? GROUP BY status",
                    (service_id,),
                )
            else:
                rows = conn.execute(
                    "SELECT status, count(*) FROM callbacks WHERE assignee_id = ? AND service_id = ? "
                    "GROUP BY status",
                    (assignee_id, service_id),
                )
            counts = {status: 0 for status in CallbackStatus}
            for status, n in rows:
                counts[CallbackStatus(status)] = n
            return counts

    def max_id(self, conn: sqlite3.Connection) -> int:
        return conn.execute("SELECT coalesce(max(id), 0) FROM callbacks").fetchone()[0]

    @contextmanager
    def bulk_load(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Drop the secondary indexes for a large load and rebuild them after (several times faster).

        Runs inside the caller's transaction: DDL is transactional in SQLite, so a crash leaves the
        indexes as they were.
        """
        indexes = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('callbacks', 'callback_history')"
        ).fetchall()
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
        for (sql,) in indexes:
            name = sql.split()[2]
            conn.execute(f"DROP INDEX {name}")
        yield
        for (sql,) in indexes:
            conn.execute(sql)
        conn.execute("PRAGMA cache_size = -2000")

    def bulk_insert(
        self,
        conn: sqlite3.Connection,
        callbacks: Iterable[tuple],
        history: Iterable[tuple],
    ) -> None:
        """Insert prepared rows (columns as CALLBACK_INSERT_COLUMNS / HISTORY_INSERT_COLUMNS)."""
        marks = ", ".join("?" * len(CALLBACK_INSERT_COLUMNS))
        conn.executemany(
            f"INSERT INTO callbacks ({', '.join(CALLBACK_INSERT_COLUMNS)}) VALUES ({marks})",
            callbacks,
        )
        marks = ", ".join("?" * len(HISTORY_INSERT_COLUMNS))
        conn.executemany(
            f"INSERT INTO callback_history ({', '.join(HISTORY_INSERT_COLUMNS)}) VALUES ({marks})",
            history,
        )
