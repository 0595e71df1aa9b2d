"""What the repositories need of a database engine (SQLite or PostgreSQL), and where the two differ.

The repositories write one SQL text for both engines wherever one exists (``?`` placeholders, which the
PostgreSQL engine turns into its own); the few places where the engines truly differ (query-planner
hints, the phone-part search, date formatting) ask the ``Dialect``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database (a ``postgresql://`` URL) rather than a file."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


class Conn(Protocol):
    """A connection inside a transaction, as both engines offer it."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


class Engine(Protocol):
    """A database: transactions, the count of commits, and its dialect."""

    dialect: Dialect
    commits: int

    def write(self) -> AbstractContextManager[Conn]: ...

    def read(self) -> AbstractContextManager[Conn]: ...

    def run_write(self, fn: Callable[[Conn], T]) -> T: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


class Watcher(Protocol):
    """Which topics of data changed since the last look (SQLite: ``data_version``; PostgreSQL: NOTIFY)."""

    def changes(self) -> frozenset[str]: ...

    def changed(self) -> bool: ...

    def close(self) -> None: ...


class Dialect:
    """The SQL that differs between the engines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.postgres = name == "postgresql"

    def indexed_by(self, table: str, index: str) -> str:
        """``table`` read through ``index``: SQLite takes the hint; PostgreSQL's planner needs none."""
        return table if self.postgres else f"{table} INDEXED BY {index}"

    def not_indexed(self, table: str) -> str:
        """``table`` read by its primary key only (SQLite's hint; PostgreSQL chooses by itself)."""
        return table if self.postgres else f"{table} NOT INDEXED"

    def period(self, monthly: bool) -> str:
        """An SQL expression of the local day or month of ``requested_at + ?`` (offset in seconds)."""
        if self.postgres:
            fmt = "YYYY-MM" if monthly else "YYYY-MM-DD"
            return f"to_char(to_timestamp(requested_at + ?) AT TIME ZONE 'UTC', '{fmt}')"
        fmt = "%Y-%m" if monthly else "%Y-%m-%d"
        return f"strftime('{fmt}', requested_at + ?, 'unixepoch')"

    def __repr__(self) -> str:
        return f"Dialect({self.name!r})"


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgresql")


def inserted_id(cur: Any) -> int:
    """The id an ``INSERT … RETURNING id`` gave (both engines)."""
    rows = cur.fetchall()  # all of them: SQLite keeps a statement with rows left open
    if not rows:
        raise RuntimeError("no row was inserted")
    return int(rows[0][0])


def database_errors(*also: type[Exception]) -> tuple[type[Exception], ...]:
    """``also`` and what either engine raises when a statement fails (a refused row, a lost server):
    what code that must go on past one failed write catches. psycopg's only once it is in use (it is
    optional)."""
    import sqlite3
    import sys

    psycopg = sys.modules.get("psycopg")
    return (*also, sqlite3.Error) if psycopg is None else (*also, sqlite3.Error, psycopg.Error)
