"""The store: a SQLite file (the default) or a PostgreSQL database (a ``postgresql://`` URL). All SQL of
the project lives in this package; the repositories serve both engines.

Headless: never imports textual.
"""

from __future__ import annotations

from pathlib import Path

from contiple_tui.store.audit import AuditRepo
from contiple_tui.store.callbacks import CallbackRepo
from contiple_tui.store.connection import ChangeWatcher, Database, ensure_writable_dir
from contiple_tui.store.directory import ServiceRepo, UserRepo
from contiple_tui.store.engine import Conn, Engine, Watcher, is_database_url
from contiple_tui.store.leases import LeaseRepo
from contiple_tui.store.migrations import SCHEMA_VERSION
from contiple_tui.store.sms import SmsRepo

DB_FILENAME = "contiple.sqlite3"

__all__ = ["DB_FILENAME", "SCHEMA_VERSION", "Conn", "Store", "ensure_writable_dir", "is_database_url"]


class Store:
    """The database and its repositories.

    ``location``: the SQLite file's path, or a PostgreSQL URL. ``path`` is the SQLite file's (None on
    PostgreSQL); ``location`` names the database in messages either way (without a password)."""

    def __init__(self, location: Path | str) -> None:
        self.db: Engine
        self.url: str | None = None
        self.path: Path | None
        if is_database_url(location):
            from contiple_tui.store.postgres import PgDatabase  # psycopg only when asked for

            self.url, self.path = str(location), None
            pg = PgDatabase(self.url)
            self.db, self.location = pg, pg.location
        else:
            self.path = Path(location)
            self.db = Database(self.path)
            self.location = str(self.path)
        # The data directory of config, logs and exports: the SQLite file's; with PostgreSQL, the
        # command line's (set by who opens the store).
        self.data_dir: Path | None = None if self.path is None else self.path.parent
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

    @property
    def postgres(self) -> bool:
        return self.url is not None

    def watcher(self) -> Watcher:
        if self.url is not None:
            from contiple_tui.store.postgres import PgChangeWatcher

            return PgChangeWatcher(self.url)
        assert self.path is not None
        return ChangeWatcher(self.path)

    def get_meta(self, key: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

    def set_meta(self, conn: Conn, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def integrity_ok(self) -> bool:
        if self.postgres:
            return True  # PostgreSQL checks its pages itself (data checksums); nothing to ask here
        with self.db.read() as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        self.db.close()
