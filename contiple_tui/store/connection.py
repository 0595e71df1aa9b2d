"""Opening the SQLite file safely, migrating it, and running transactions.

Several console processes (every supervisor and agent SSHes into one host) share one file: WAL lets
readers run beside one writer, ``BEGIN IMMEDIATE`` takes the write lock before any read that a write
depends on, and the busy timeout plus a bounded retry keeps "database is locked" away from users.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from contiple_tui.errors import StoreError
from contiple_tui.store.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# Beyond the busy timeout, retry a locked transaction for this long before giving up.
LOCK_RETRY_SECONDS = 30.0


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit our transaction)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def inspect_file(path: Path) -> tuple[int, int]:
    """Read (application_id, user_version) without changing the file; refuse what we must not touch."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError("err.db_corrupt", path=str(path), reason=str(exc)) from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        # Parsing the schema catches damaged files that still have a valid header.
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError("err.db_corrupt", path=str(path), reason=str(exc)) from None
    finally:
        conn.close()
    if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables != 0):
        raise StoreError("err.db_foreign", path=str(path))
    if version > SCHEMA_VERSION:
        raise StoreError("err.db_newer", path=str(path), found=version, known=SCHEMA_VERSION)
    return app_id, version


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":  # pragma: no cover - only on filesystems without shared memory
        raise StoreError("err.db_no_wal", path=str(path), mode=mode)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Database:
    """One connection, guarded by a lock so UI thread workers can share it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        existed = self.path.exists() and self.path.stat().st_size > 0
        if existed:
            inspect_file(self.path)
        try:
            self.conn = connect(self.path)
        except sqlite3.DatabaseError as exc:
            raise StoreError("err.db_corrupt", path=str(self.path), reason=str(exc)) from None
        self._lock = threading.RLock()
        self._migrate()

    # -- transactions -------------------------------------------------------------------------

    def _retrying(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        delay = 0.01
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One user action = one ``BEGIN IMMEDIATE`` transaction; rolled back on any error."""
        with self._lock:
            self._retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self._retrying(lambda: self.conn.execute("COMMIT"))

    def run_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction, retrying the whole of it if the file stays locked."""

        def attempt() -> T:
            with self.write() as conn:
                return fn(conn)

        return self._retrying(attempt)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        with self._lock:
            self._retrying(lambda: self.conn.execute("BEGIN"))
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def data_version(self) -> int:
        with self._lock:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- schema -------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._lock:
            return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.schema_version() >= SCHEMA_VERSION:
            return

        def apply(conn: sqlite3.Connection) -> None:
            # Another process may have migrated while we waited for the lock.
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise StoreError(
                    "err.db_newer", path=str(self.path), found=current, known=SCHEMA_VERSION
                )
            for number in range(current, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        self.run_write(apply)


class ChangeWatcher:
    """Tells whether another connection committed since the last look (``PRAGMA data_version``).

    It has its own connection, so commits by this process's main connection count as changes too,
    and a long query on the main connection never delays the check.
    """

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._last = self._version()

    def _version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def changed(self) -> bool:
        try:
            current = self._version()
        except sqlite3.OperationalError:
            return False
        if current != self._last:
            self._last = current
            return True
        return False

    def close(self) -> None:
        self._conn.close()


def ensure_writable_dir(path: Path) -> None:
    """Create the data directory if needed and prove we can write there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError("err.data_dir_not_writable", path=str(path), reason=exc.strerror or str(exc)) from None
