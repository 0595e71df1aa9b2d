"""Leases: one process at a time does a piece of work for the whole data directory.

A lease is a row (name, holder, expires_at in epoch seconds, wall clock). Its holder renews it before it
expires; anyone else may take it once it has expired, is released, or its holder is known to be gone.
Reading who holds it is a plain read, so consoles that do not hold it never write.
"""

from __future__ import annotations

from collections.abc import Callable

from contiple_tui.store.engine import Conn, Engine


class LeaseRepo:
    def __init__(self, db: Engine) -> None:
        self._db = db

    def holder(self, name: str) -> tuple[str, float] | None:
        """(holder, expires_at) of the lease, or None when nobody holds it."""
        with self._db.read() as conn:
            row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
        return (row[0], row[1]) if row else None

    @staticmethod
    def take(
        conn: Conn,
        name: str,
        holder: str,
        now: float,
        ttl_s: float,
        gone: Callable[[str], bool] | None = None,
    ) -> bool:
        """Inside a write transaction: take or renew the lease for ``holder`` until ``now + ttl_s`` if it is
        free, expired, already ``holder``'s, or held by someone ``gone`` says is no longer there."""
        row = conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
        if row is not None and row[0] != holder and row[1] > now and not (gone is not None and gone(row[0])):
            return False
        conn.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
            (name, holder, now + ttl_s),
        )
        return True

    def acquire(
        self, name: str, holder: str, now: float, ttl_s: float, gone: Callable[[str], bool] | None = None
    ) -> bool:
        """``take`` in a transaction of its own."""
        return self._db.run_write(lambda conn: self.take(conn, name, holder, now, ttl_s, gone))

    @staticmethod
    def drop(conn: Conn, name: str, holder: str) -> None:
        """Inside a write transaction: give the lease up (only if ``holder`` still holds it): the next
        taker need not wait for expiry."""
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def release(self, name: str, holder: str) -> None:
        """``drop`` in a transaction of its own."""
        self._db.run_write(lambda conn: self.drop(conn, name, holder))
