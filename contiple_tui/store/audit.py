"""The audit trail of operator commands (users, services, keys): who, when, what. Never the keys
themselves, only their fingerprints."""

from __future__ import annotations

from contiple_tui.store.engine import Engine


class AuditRepo:
    def __init__(self, db: Engine) -> None:
        self._db = db

    def add(self, at: int, operator: str, action: str, detail: str) -> None:
        """One row, in a write transaction of its own (after the change it records was committed)."""
        self._db.run_write(
            lambda conn: conn.execute(
                "INSERT INTO audit (at, operator, action, detail) VALUES (?, ?, ?, ?)",
                (at, operator, action, detail),
            )
        )

    def recent(self, limit: int) -> list[tuple[int, str, str, str]]:
        """(at, operator, action, detail), newest first."""
        with self._db.read() as conn:
            return conn.execute(
                "SELECT at, operator, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
