"""SQL for services and users (the directory). Rules live in contiple_tui.core.directory."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from contiple_tui.domain.models import IvrRoute, OutboundTicketMode, Perm, Role, Service, Thresholds, User
from contiple_tui.store.engine import Conn, Engine, inserted_id

_SERVICE_COLS = (
    "id, code, name, callback_enabled, sms_enabled, cti_enabled, outbound_ticket_mode, "
    "sl_threshold_s, timezone, sl_warn_pct, sl_crit_pct, waiting_warn, waiting_crit, wait_warn_s, wait_crit_s"
)
_USER_COLS = "id, login, name, role, perm_phone, perm_callback_assign, cti_agent_id, disabled"


class ServiceRepo:
    def __init__(self, db: Engine) -> None:
        self._db = db

    def _load(self, conn: Conn, rows: Iterable[tuple]) -> list[Service]:
        services = []
        for row in rows:
            sid = row[0]
            senders = tuple(
                r[0]
                for r in conn.execute(
                    "SELECT number FROM sender_numbers WHERE service_id = ? ORDER BY position, number", (sid,)
                )
            )
            routes = tuple(
                IvrRoute(code, name)
                for code, name in conn.execute(
                    "SELECT code, name FROM ivr_routes WHERE service_id = ? ORDER BY code", (sid,)
                )
            )
            services.append(
                Service(
                    id=sid,
                    code=row[1],
                    name=row[2],
                    callback_enabled=bool(row[3]),
                    sms_enabled=bool(row[4]),
                    cti_enabled=bool(row[5]),
                    outbound_ticket_mode=OutboundTicketMode(row[6]),
                    sl_threshold_s=row[7],
                    timezone=row[8],
                    sender_numbers=senders,
                    ivr_routes=routes,
                    thresholds=Thresholds(*row[9:15]),
                )
            )
        return services

    def list(self) -> list[Service]:
        with self._db.read() as conn:
            rows = conn.execute(f"SELECT {_SERVICE_COLS} FROM services ORDER BY id").fetchall()
            return self._load(conn, rows)

    def get(self, service_id: int) -> Service | None:
        with self._db.read() as conn:
            rows = conn.execute(f"SELECT {_SERVICE_COLS} FROM services WHERE id = ?", (service_id,))
            found = self._load(conn, rows.fetchall())
        return found[0] if found else None

    def get_by_code(self, code: str) -> Service | None:
        with self._db.read() as conn:
            rows = conn.execute(f"SELECT {_SERVICE_COLS} FROM services WHERE code = ?", (code,))
            found = self._load(conn, rows.fetchall())
        return found[0] if found else None

    def insert(
        self,
        conn: Conn,
        *,
        code: str,
        name: str,
        callback_enabled: bool,
        sms_enabled: bool,
        cti_enabled: bool,
        outbound_ticket_mode: OutboundTicketMode,
        sl_threshold_s: int,
        timezone: str,
        sender_numbers: Sequence[str],
        ivr_routes: Sequence[IvrRoute],
        thresholds: Thresholds,
    ) -> int:
        cur = conn.execute(
            "INSERT INTO services (code, name, callback_enabled, sms_enabled, cti_enabled, "
            "outbound_ticket_mode, sl_threshold_s, timezone, created_at, sl_warn_pct, sl_crit_pct, "
            "waiting_warn, waiting_crit, wait_warn_s, wait_crit_s) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                code,
                name,
                int(callback_enabled),
                int(sms_enabled),
                int(cti_enabled),
                str(outbound_ticket_mode),
                sl_threshold_s,
                timezone,
                int(time.time()),
                thresholds.sl_warn_pct,
                thresholds.sl_crit_pct,
                thresholds.waiting_warn,
                thresholds.waiting_crit,
                thresholds.wait_warn_s,
                thresholds.wait_crit_s,
            ),
        )
        sid = inserted_id(cur)
        conn.executemany(
            "INSERT INTO sender_numbers (service_id, number, position) VALUES (?, ?, ?)",
            [(sid, number, i) for i, number in enumerate(sender_numbers)],
        )
        conn.executemany(
            "INSERT INTO ivr_routes (service_id, code, name) VALUES (?, ?, ?)",
            [(sid, r.code, r.name) for r in ivr_routes],
        )
        return sid

    def replace_sender_numbers(self, conn: Conn, service_id: int, numbers: Sequence[str]) -> None:
        conn.execute("DELETE FROM sender_numbers WHERE service_id = ?", (service_id,))
        conn.executemany(
            "INSERT INTO sender_numbers (service_id, number, position) VALUES (?, ?, ?)",
            [(service_id, number, i) for i, number in enumerate(numbers)],
        )


class UserRepo:
    def __init__(self, db: Engine) -> None:
        self._db = db

    @staticmethod
    def _build(conn: Conn, row: tuple) -> User:
        perms = set()
        if row[4]:
            perms.add(Perm.PHONE)
        if row[5]:
            perms.add(Perm.CALLBACK_ASSIGN)
        services = tuple(
            r[0]
            for r in conn.execute(
                "SELECT service_id FROM user_services WHERE user_id = ? ORDER BY service_id", (row[0],)
            )
        )
        return User(
            id=row[0],
            login=row[1],
            name=row[2],
            role=Role(row[3]),
            perms=frozenset(perms),
            service_ids=services,
            cti_agent_id=row[6],
            disabled=bool(row[7]),
        )

    def get_by_login(self, login: str) -> User | None:
        with self._db.read() as conn:
            row = conn.execute(f"SELECT {_USER_COLS} FROM users WHERE login = ?", (login,)).fetchone()
            return self._build(conn, row) if row else None

    def get(self, user_id: int) -> User | None:
        with self._db.read() as conn:
            row = conn.execute(f"SELECT {_USER_COLS} FROM users WHERE id = ?", (user_id,)).fetchone()
            return self._build(conn, row) if row else None

    def list(self, service_id: int | None = None) -> list[User]:
        with self._db.read() as conn:
            if service_id is None:
                rows = conn.execute(f"SELECT {_USER_COLS} FROM users ORDER BY login").fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_USER_COLS} FROM users JOIN user_services ON users.id = user_id "
                    "WHERE service_id = ? ORDER BY login",
                    (service_id,),
                ).fetchall()
            return [self._build(conn, row) for row in rows]

    def login_exists(self, conn: Conn, login: str) -> bool:
        return conn.execute("SELECT 1 FROM users WHERE login = ?", (login,)).fetchone() is not None

    def cti_id_owner(self, conn: Conn, cti_agent_id: str) -> str | None:
        row = conn.execute("SELECT login FROM users WHERE cti_agent_id = ?", (cti_agent_id,)).fetchone()
        return row[0] if row else None

    def insert(
        self,
        conn: Conn,
        *,
        login: str,
        name: str,
        role: Role,
        perms: frozenset[Perm],
        service_ids: Sequence[int],
        cti_agent_id: str | None,
    ) -> int:
        cur = conn.execute(
            "INSERT INTO users (login, name, role, perm_phone, perm_callback_assign, cti_agent_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                login,
                name,
                str(role),
                int(Perm.PHONE in perms),
                int(Perm.CALLBACK_ASSIGN in perms),
                cti_agent_id,
                int(time.time()),
            ),
        )
        uid = inserted_id(cur)
        conn.executemany(
            "INSERT INTO user_services (user_id, service_id) VALUES (?, ?)",
            [(uid, sid) for sid in service_ids],
        )
        return uid

    def set_disabled(self, conn: Conn, login: str, disabled: bool) -> bool:
        cur = conn.execute("UPDATE users SET disabled = ? WHERE login = ?", (int(disabled), login))
        return cur.rowcount > 0
