"""Opening the SQLite file safely, migrating it, and running transactions.

Several console processes (every supervisor and agent SSHes into one host) share one file: WAL lets
readers run beside one writer, ``BEGIN IMMEDIATE`` takes the write lock before any read that a write
depends on, and the busy timeout plus a bounded retry keeps "database is locked" away from users.
"""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from contiple_tui.errors import StoreError
from contiple_tui.store.engine import SQLITE
from contiple_tui.store.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# Beyond the busy timeout, retry a locked transaction for this long before giving up.
LOCK_RETRY_SECONDS = 30.0


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


# SQLite's primary result codes of the faults a user must be told about in one clear line.
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = (
    3,
    8,
    10,
    11,
    13,
    14,
)
_SQLITE_NOTADB = 26
_FAULT_KEYS = {
    _SQLITE_FULL: "err.disk_full",
    _SQLITE_CORRUPT: "err.db_corrupt",
    _SQLITE_NOTADB: "err.db_corrupt",
    _SQLITE_READONLY: "err.db_read_only",
    _SQLITE_PERM: "err.db_read_only",
    _SQLITE_IOERR: "err.db_io",
    _SQLITE_CANTOPEN: "err.db_io",
}


def fault(exc: BaseException, path: Path) -> StoreError | None:
    """The StoreError a user should see for ``exc``, or None when it is not a fault of the file.

    Disk full, damaged, read-only and input/output errors are told apart by SQLite's result code,
    never by the wording of the message (a full disk must not read as a damaged database).
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # pragma: no cover - Python < 3.11 gives no code
        return None
    key = _FAULT_KEYS.get(code & 0xFF)
    if key is None:
        return None
    if key == "err.db_io" and _disk_full(path):
        # SQLite reports a full disk as an I/O error when it cannot grow its shared-memory file.
        key = "err.disk_full"
    return StoreError(key, path=str(path), reason=str(exc))


DISK_FULL_BYTES = 64 * 1024  # less free space than this beside the database counts as a full disk


def _disk_full(path: Path) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < DISK_FULL_BYTES


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
        raise fault(exc, path) or StoreError("err.db_corrupt", path=str(path), reason=str(exc)) from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        # Parsing the schema catches damaged files that still have a valid header.
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        raise fault(exc, path) or StoreError("err.db_corrupt", path=str(path), reason=str(exc)) from None
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
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":  # pragma: no cover - only on filesystems without shared memory
            raise StoreError("err.db_no_wal", path=str(path), mode=mode)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()  # at once: SQLite then removes the -wal and -shm files it began
        raise
    return conn


class Database:
    """A SQLite file: one connection, guarded by a lock so UI thread workers can share it."""

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        existed = self.path.exists()
        if existed and not os.access(self.path, os.W_OK):
            # Refused before SQLite opens it, even to look: a reader would leave -wal and -shm files
            # of its own beside it, which can lock the file's owner out.
            raise StoreError("err.db_read_only", path=str(self.path), reason=os.strerror(errno.EACCES))
        if existed:
            refuse_shared_file(self.path)
        if existed and self.path.stat().st_size > 0:
            inspect_file(self.path)
        self._lock = threading.RLock()
        self.commits = 0  # write transactions committed by this connection (diagnostics, benchmarks)
        if not existed:
            try:
                _create_private_file(self.path)
            except FileExistsError:  # another process created it a moment ago: open it as it is
                existed = True
                refuse_shared_file(self.path)
            except OSError as exc:  # no permission, no space, a quota: said, nothing created
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StoreError("err.disk_full", path=str(self.path)) from None
                raise StoreError("err.db_io", path=str(self.path), reason=exc.strerror or str(exc)) from None
        try:
            self.conn = connect(self.path)
        except sqlite3.Error as exc:
            self._forget_new_file(existed)
            raise fault(exc, self.path) or StoreError(
                "err.db_corrupt", path=str(self.path), reason=str(exc)
            ) from None
        try:
            try:
                self._migrate()
            except sqlite3.Error as exc:
                raise fault(exc, self.path) or StoreError(
                    "err.db_corrupt", path=str(self.path), reason=str(exc)
                ) from None
        except StoreError:
            self.conn.close()
            self._forget_new_file(existed)
            raise

    def _forget_new_file(self, existed: bool) -> None:
        """After a failed first open (disk full…), remove the empty file SQLite created: nothing changed."""
        if existed:
            return
        for suffix in ("-wal", "-shm"):
            with suppress(OSError):
                Path(f"{self.path}{suffix}").unlink()
        with suppress(OSError):
            if self.path.stat().st_size == 0:
                self.path.unlink()

    def _faults(self, exc: BaseException) -> StoreError | None:
        return fault(exc, self.path)

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
        """One user action = one ``BEGIN IMMEDIATE`` transaction; rolled back on any error.

        A fault of the file (disk full, damaged, read-only, I/O error) is raised as a StoreError.
        """
        with self._lock:
            try:
                self._retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"))
                try:
                    yield self.conn
                except BaseException:
                    self._rollback()
                    raise
                else:
                    try:
                        self._retrying(lambda: self.conn.execute("COMMIT"))
                    except BaseException:
                        self._rollback()
                        raise
                    self.commits += 1
            except sqlite3.Error as exc:
                error = self._faults(exc)
                if error is None:
                    raise
                raise error from None

    def _rollback(self) -> None:
        # SQLite may have rolled back by itself already (e.g. after SQLITE_FULL): the first error counts.
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

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
            try:
                self._retrying(lambda: self.conn.execute("BEGIN"))
                try:
                    yield self.conn
                except BaseException:
                    self._rollback()
                    raise
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                error = self._faults(exc)
                if error is None:
                    raise
                raise error from None

    def data_version(self) -> int:
        with self._lock:
            try:
                return self.conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error as exc:
                raise self._faults(exc) or exc from None

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
                raise StoreError("err.db_newer", path=str(self.path), found=current, known=SCHEMA_VERSION)
            for number in range(current, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        self.run_write(apply)


class ChangeWatcher:
    """Tells which topics of data (``migrations.TOPICS``) any connection changed since the last look.

    ``PRAGMA data_version`` moves on every commit of another connection (this process's main
    connection included: the watcher has its own, so a long query there never delays the check); only
    then is the tiny ``change_versions`` table read, which triggers keep per topic. A commit that changes
    no topic (the feed position, the intake lease) makes nothing reload.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._last = self._version()
        self._seen = self._versions()

    def _version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def _versions(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT topic, version FROM change_versions").fetchall())

    def changes(self) -> frozenset[str]:
        """The topics changed since the last call (each reported once).

        Raises StoreError for a fault of the file (I/O error, damaged, ...); a busy file is "no change
        yet"."""
        try:
            current = self._version()
            if current == self._last:
                return frozenset()
            versions = self._versions()
        except sqlite3.Error as exc:
            error = fault(exc, self._path)
            if error is None:
                return frozenset()
            raise error from None
        self._last = current
        changed = frozenset(topic for topic, version in versions.items() if self._seen.get(topic) != version)
        self._seen = versions
        return changed

    def changed(self) -> bool:
        """Whether any topic changed since the last look."""
        return bool(self.changes())

    def close(self) -> None:
        self._conn.close()


def private_dir(path: Path) -> None:
    """Create ``path`` and every missing folder above it readable by their owner only (0700), whatever
    the umask; a directory that exists keeps the mode its administrator gave it."""
    missing = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def foreign_owner(st: os.stat_result) -> bool:
    """Owned by neither this account nor root (root itself trusts any owner), as OpenSSH checks keys."""
    uid = os.geteuid()
    return uid != 0 and st.st_uid not in (uid, 0)


def refuse_shared_file(path: Path) -> None:
    """A database others may write, or another account's, is refused, as OpenSSH refuses such a key: one
    line with the fix."""
    try:
        st = path.stat()
    except OSError:
        return  # missing or unreadable: said where it is opened
    if os.name != "posix":
        return
    if st.st_mode & 0o022:
        raise StoreError("err.db_shared", path=str(path), mode=f"{st.st_mode & 0o777:o}")
    if foreign_owner(st):
        raise StoreError("err.db_owner", path=str(path), uid=st.st_uid)


def _create_private_file(path: Path) -> None:
    """An empty database file, 0600 whatever the umask (SQLite gives its -wal and -shm files the same)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def ensure_writable_dir(path: Path) -> None:
    """Create the data directory if needed (0700) and prove we can write there."""
    try:
        private_dir(path)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            "err.data_dir_not_writable", path=str(path), reason=exc.strerror or str(exc)
        ) from None
