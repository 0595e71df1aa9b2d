"""The SQLite store. All SQL of the project lives in this package, so another backend can follow.

Headless: never imports textual.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from contiple_tui.store.audit import AuditRepo
from contiple_tui.store.callbacks import CallbackRepo
from contiple_tui.store.connection import ChangeWatcher, Database, ensure_writable_dir
from contiple_tui.store.directory import ServiceRepo, UserRepo
from contiple_tui.store.leases import LeaseRepo
from contiple_tui.store.migrations import SCHEMA_VERSION
from contiple_tui.store.sms import SmsRepo

DB_FILENAME = "contiple.sqlite3"

__all__ = ["DB_FILENAME", "SCHEMA_VERSION", "Store", "ensure_writable_dir"]


class Store:
    """The database and its repositories."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.db = Database(self.path)
        self.services = ServiceRepo(self.db)
        self.users = UserRepo(self.db)
        self.callbacks = CallbackRepo(self.db)
        self.sms = SmsRepo(self.db)
        self.leases = LeaseRepo(self.db)
        self.audit = AuditRepo(self.db)

    @classmethod
    def in_dir(cls, data_dir: Path) -> Store:
        ensure_writable_dir(data_dir)
        return cls(data_dir / DB_FILENAME)

    def watcher(self) -> ChangeWatcher:
        return ChangeWatcher(self.path)

    def get_meta(self, key: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def integrity_ok(self) -> bool:
        with self.db.read() as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        self.db.close()
