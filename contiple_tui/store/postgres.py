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
from urllib.parse import urlsplit, urlunsplit

from contiple_tui.errors import StoreError
from contiple_tui.store.engine import POSTGRES
from contiple_tui.store.migrations import SCHEMA_VERSION, TOPICS
from contiple_tui.store.pg_schema import CHANNEL, PG_MIGRATIONS, SCHEMA_TABLE

try:
    import psycopg
    from psycopg.adapt import Loader
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - the default install
    psycopg = None  # type: ignore[assignment]

T = TypeVar("T")

# pg_advisory_xact_lock key of the one writer at a time ("CNTP", as SQLite's application id).
WRITE_LOCK = 0x434E5450
CONNECT_TIMEOUT_S = 5
POOL_MAX = 4  # the UI thread and its workers; a console rarely uses more than two at once

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
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


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


class PgDatabase:
    """A PostgreSQL database: a small pool of connections, transactions, the schema."""

    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        require_driver()
        self.url = url
        self.location = redacted(url)
        self.commits = 0
        self._lock = threading.Lock()
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            open=False,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            configure=_configure,
            check=ConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT_S * 2,
            name="contiple",
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except PoolTimeout as exc:
            self.pool.close()
            raise self._unreachable(exc) from None
        try:
            self._migrate()
        except BaseException:
            self.pool.close()
            raise

    def _unreachable(self, exc: BaseException) -> StoreError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreError("err.pg_unreachable", url=self.location, reason=reason)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise self._unreachable(exc) from None

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[PgConn]:
        """One user action = one transaction, behind the one writer lock; rolled back on any error."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield PgConn(conn)
        with self._lock:
            self.commits += 1

    def run_write(self, fn: Callable[[PgConn], T]) -> T:
        with self.write() as conn:
            return fn(conn)

    @contextmanager
    def read(self) -> Iterator[PgConn]:
        """A consistent snapshot for several SELECTs."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgConn(conn)

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
        with self._connection() as conn, conn.transaction():
            # Behind the writer lock: another console may be migrating the same database right now.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
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

    def reset_sequences(self, conn: PgConn, tables: Iterable[str]) -> None:
        """After rows were inserted with their ids given (a bulk load, a copy): identities continue
        after the largest id."""
        for table in tables:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )


class PgChangeWatcher:
    """Which topics changed since the last look, from NOTIFY: no query while nothing changes.

    A lost connection (the server restarted) is opened again; what changed meanwhile is then found by
    comparing the topics' versions with those last seen."""

    def __init__(self, url: str) -> None:
        require_driver()
        self._url = url
        self._conn: Any = None
        self._seen: dict[str, int] = {}
        self._connect()

    def _connect(self) -> None:
        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        conn.execute(f"LISTEN {CHANNEL}")
        self._conn = conn

    def _versions(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT topic, version FROM change_versions").fetchall())

    def changes(self) -> frozenset[str]:
        try:
            if self._conn is None or self._conn.closed:
                return self._reconnected()
            if not self._seen:
                self._seen = self._versions()
            return frozenset(n.payload for n in self._conn.notifies(timeout=0) if n.payload in TOPICS)
        except psycopg.OperationalError:
            self._drop()
            return frozenset()

    def _reconnected(self) -> frozenset[str]:
        try:
            self._connect()
            versions = self._versions()
        except psycopg.OperationalError:
            self._drop()
            return frozenset()
        changed = frozenset(t for t, v in versions.items() if self._seen.get(t) != v)
        self._seen = versions
        return changed

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
