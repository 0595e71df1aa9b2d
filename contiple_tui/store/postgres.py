"""The store on PostgreSQL (``postgresql://`` URLs), for centers whose consoles run on several hosts.

The same repositories and rules as on SQLite. SQLite keeps its rules with ``BEGIN IMMEDIATE``: one
writer at a time, and a write transaction reads what it then changes under that lock. Here every write
transaction first takes one transaction-level advisory lock, so writers are serialized across every
process and host exactly as on SQLite, and in READ COMMITTED each statement after the lock sees every
commit before it: exactly-once intake, merging, splits, unassign and complete keep without a second
set of rules. Reads are REPEATABLE READ snapshots, as SQLite's read transactions are.

Changes are announced by the schema's triggers with NOTIFY (``pg_schema.CHANNEL``): a console learns of
them from its listening connection without asking the server anything.

Imported only when a PostgreSQL URL is used: psycopg is an optional extra (``contiple-tui[postgres]``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from contiple_tui.errors import StoreError
from contiple_tui.store.engine import POSTGRES
from contiple_tui.store.migrations import LEASE_TOPIC, SCHEMA_VERSION, TOPICS
from contiple_tui.store.pg_schema import CHANNEL, PG_MIGRATIONS, SCHEMA_TABLE

try:
    import psycopg
    from psycopg.adapt import Loader
except ImportError:  # pragma: no cover - the default install
    psycopg = None  # type: ignore[assignment]

T = TypeVar("T")

# pg_advisory_xact_lock key of the one writer at a time ("CNTP", as SQLite's application id).
WRITE_LOCK = 0x434E5450
ANNOUNCED = TOPICS | {LEASE_TOPIC}  # what a NOTIFY may name
CONNECT_TIMEOUT_S = 5
POOL_MAX = 4  # idle connections kept: the UI thread and its workers rarely use more than two at once

_WRITE_BEGIN = (
    ("BEGIN ISOLATION LEVEL READ COMMITTED", ()),
    ("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,)),
)
_READ_BEGIN = (("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", ()),)

_PASSWORD = re.compile(r"^(\w+://[^:/@]*):[^@]*@")
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


@lru_cache(maxsize=512)
def to_pg(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (``%`` itself doubled); string literals kept."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs (several hosts, libpq's failover list,
    included: ``postgresql://u:pw@db1:5432,db2:5432/cc``)."""
    return _PASSWORD.sub(r"\1@", url)


def short_reason(exc: BaseException) -> str:
    """What libpq says went wrong, without the address it already tried (the message names the server):
    "Connection refused", "server closed the connection unexpectedly", "password authentication failed
    for user ...". For a message of one line."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    reason = line.rsplit(": ", 1)[-1].removeprefix("FATAL:").strip()
    return reason or line


def require_driver() -> None:
    if psycopg is None:
        raise StoreError("err.pg_driver_missing")


if psycopg is not None:

    class _WholeNumberLoader(Loader):
        """NUMERIC results (PostgreSQL's sum of BIGINTs) as int when whole, float otherwise: the values
        SQLite gives for the same queries."""

        def load(self, data: Any) -> int | float:
            text = bytes(data).decode()
            return int(text) if text.lstrip("-").isdigit() else float(text)


def _configure(conn: Any) -> None:
    conn.adapters.register_loader("numeric", _WholeNumberLoader)


@contextmanager
def loading(conn: Any, tables: Sequence[str]) -> Iterator[None]:
    """Inside the caller's transaction, load ``tables`` as pg_restore does: their secondary indexes
    built once after the load (a GIN trigram index kept row by row is the slowest part of a million
    rows), their foreign keys checked once for the lot when added back, their triggers off (the caller
    rebuilds the kept counts and announces the change). A failure leaves everything as it was."""
    names = ", ".join(f"'{table}'" for table in tables)
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        f"AND tablename IN ({names}) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ).fetchall()
    foreign = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE contype = 'f' AND conrelid::regclass::text IN ({names})"
    ).fetchall()
    for table, name, _ in foreign:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    for table in tables:
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    yield
    for table in tables:
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, sql in indexes:
        conn.execute(sql)
    for table, name, definition in foreign:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def reset_identities(conn: Any, tables: Iterable[str]) -> None:
    """After rows were inserted with their ids given: identities continue after the largest id."""
    for table in tables:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


class PgConn:
    """A psycopg connection inside a transaction, taking the SQL the repositories write."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        # Parameters always passed (even empty), so psycopg reads the doubled %% back as one.
        return self.raw.execute(to_pg(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cur = self.raw.cursor()
        rows = [tuple(row) for row in parameters]
        if rows:
            cur.executemany(to_pg(sql), rows)
        return cur


class ConnectionPool:
    """Idle connections kept for reuse; a new one made when none is idle, none waited for.

    Not psycopg_pool: its background reconnection backs off exponentially, so after a server restart
    every read of a console waited up to its timeout (10 s here) and recovered seconds after the
    server was back. Here a call while the server is down fails at once (connection refused) and the
    first call after it is back succeeds."""

    def __init__(self, url: str, keep: int = POOL_MAX) -> None:
        self.url = url
        self.keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def _new(self) -> Any:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        _configure(conn)
        return conn

    @contextmanager
    def connection(self, begin: Sequence[tuple[str, tuple]] = ()) -> Iterator[Any]:
        """A connection, on which ``begin`` (a transaction's first statements) has run. An idle one whose
        server restarted since fails there, before anything was done: it is replaced by a new one
        once, so the first action after a restart works instead of failing on a dead connection."""
        conn = self._checkout(begin)
        try:
            yield conn
        except psycopg.OperationalError:
            conn.close()  # lost (the server restarted): never handed out again
            raise
        except BaseException:
            if conn.broken:
                conn.close()
            else:
                self._release(conn)
            raise
        self._release(conn)

    def _checkout(self, begin: Sequence[tuple[str, tuple]]) -> Any:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None and not (conn.closed or conn.broken):
            try:
                for sql, args in begin:
                    conn.execute(sql, args)
                return conn
            except psycopg.OperationalError:
                conn.close()
        conn = self._new()
        try:
            for sql, args in begin:
                conn.execute(sql, args)
        except BaseException:
            conn.close()
            raise
        return conn

    def _release(self, conn: Any) -> None:
        with self._lock:
            if len(self._idle) < self.keep and not conn.closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class PgDatabase:
    """A PostgreSQL database: connections, transactions, the schema."""

    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        require_driver()
        self.url = url
        self.location = redacted(url)
        self.commits = 0
        self._lock = threading.Lock()
        self.pool = ConnectionPool(url)
        try:
            self._migrate()
        except BaseException:
            self.pool.close()
            raise

    def _unreachable(self, exc: BaseException) -> StoreError:
        return StoreError("err.pg_unreachable", url=self.location, reason=short_reason(exc))

    @contextmanager
    def _connection(self, begin: Sequence[tuple[str, tuple]] = ()) -> Iterator[Any]:
        try:
            with self.pool.connection(begin) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from None

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, begin: Sequence[tuple[str, tuple]]) -> Iterator[PgConn]:
        """``begin``, the caller's statements, COMMIT; ROLLBACK on any error (the connection is dropped
        when the error was the server's going away)."""
        with self._connection(begin) as conn:
            try:
                yield PgConn(conn)
            except BaseException:
                if not conn.broken:
                    try:
                        conn.execute("ROLLBACK")
                    except psycopg.Error:
                        conn.close()  # not to be handed out again in an unknown state
                raise
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[PgConn]:
        """One user action = one transaction, behind the one writer lock; rolled back on any error."""
        with self._transaction(_WRITE_BEGIN) as conn:
            yield conn
        with self._lock:
            self.commits += 1

    def run_write(self, fn: Callable[[PgConn], T]) -> T:
        with self.write() as conn:
            return fn(conn)

    @contextmanager
    def read(self) -> Iterator[PgConn]:
        """A consistent snapshot for several SELECTs."""
        with self._transaction(_READ_BEGIN) as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()

    # -- schema -------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._connection() as conn:
            return self._version(conn)

    @staticmethod
    def _version(conn: Any) -> int:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,)).fetchone()[0]
        if not exists:
            return 0
        row = conn.execute(f"SELECT version FROM {SCHEMA_TABLE}").fetchone()
        return row[0] if row else 0

    def _migrate(self) -> None:
        # Behind the writer lock: another console may be migrating the same database right now.
        with self._transaction(_WRITE_BEGIN) as pg:
            conn = pg.raw
            current = self._version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError("err.db_newer", path=self.location, found=current, known=SCHEMA_VERSION)
            if current == SCHEMA_VERSION:
                return
            if current == 0:
                others = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchone()[0]
                if others:
                    raise StoreError("err.db_foreign", path=self.location)
                conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER NOT NULL)")
                conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (0)")
            for number in range(current, SCHEMA_VERSION):
                conn.execute(PG_MIGRATIONS[number])
            conn.execute(f"UPDATE {SCHEMA_TABLE} SET version = %s", (SCHEMA_VERSION,))


class PgChangeWatcher:
    """Which topics changed since the last look, from NOTIFY: no query while nothing changes.

    While the server cannot be reached, each look raises the same StoreError (said once on screen); the
    first look that reaches it again reports every topic changed, since what others wrote meanwhile was
    announced to nobody listening."""

    def __init__(self, url: str) -> None:
        require_driver()
        self._url = url
        self._conn: Any = None
        self._down: StoreError | None = None
        self._connect()

    def _connect(self) -> None:
        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        conn.execute(f"LISTEN {CHANNEL}")
        self._conn = conn

    def changes(self) -> frozenset[str]:
        if self._conn is None:
            try:
                self._connect()
            except psycopg.OperationalError as exc:
                raise self._fault(exc) from None
            self._down = None
            return ANNOUNCED
        try:
            return frozenset(n.payload for n in self._conn.notifies(timeout=0) if n.payload in ANNOUNCED)
        except psycopg.OperationalError as exc:
            self._drop()
            raise self._fault(exc) from None

    def _fault(self, exc: BaseException) -> StoreError:
        if self._down is None:  # the first reason stays for the whole outage: one line on screen
            self._down = StoreError("err.pg_unreachable", url=redacted(self._url), reason=short_reason(exc))
        return self._down

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def changed(self) -> bool:
        return bool(self.changes())

    def close(self) -> None:
        self._drop()
