"""Operator actions on services and users, with the product's rules (run from the CLI on the host)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contiple_tui.domain import safe_input
from contiple_tui.domain.models import IvrRoute, OutboundTicketMode, Perm, Role, Service, Thresholds, User
from contiple_tui.errors import NotFound, ValidationError
from contiple_tui.store import Conn, Store

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
SERVICE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# Korean sender numbers: 1588-xxxx (8 digits) up to mobile/area numbers (11-12 digits).
SENDER_RE = re.compile(r"^[0-9]{8,12}$")
MAX_NAME = 50
DEFAULT_THRESHOLDS = Thresholds()


def parse_perms(text: str | Iterable[str]) -> frozenset[Perm]:
    items = text.split(",") if isinstance(text, str) else list(text)
    perms = set()
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            perms.add(Perm(item))
        except ValueError:
            raise ValidationError("err.perm_invalid", perm=item) from None
    return frozenset(perms)


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise ValidationError("err.role_invalid", role=text) from None


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError("err.name_invalid", max=MAX_NAME)
    return name


def add_user(
    store: Store,
    *,
    login: str,
    name: str,
    role: Role | str,
    perms: Iterable[Perm] | str = (),
    services: Sequence[str],
    cti_agent_id: str | None = None,
) -> User:
    safe_input.check("login", login)
    safe_input.check("name", name)
    safe_input.check("cti_id", cti_agent_id)
    role = parse_role(role) if isinstance(role, str) else role
    perms = parse_perms(perms) if isinstance(perms, str) else frozenset(perms)
    if not LOGIN_RE.fullmatch(login):
        raise ValidationError("err.login_invalid", login=login)
    name = _check_name(name)
    if Perm.CALLBACK_ASSIGN in perms and Perm.PHONE not in perms and role is not Role.ADMIN:
        raise ValidationError("err.assign_needs_phone")
    if role is Role.WALLBOARD and perms:
        raise ValidationError("err.wallboard_no_perms")
    if role is Role.ADMIN:
        perms = frozenset(Perm)  # admins have every permission
    if not services:
        raise ValidationError("err.user_needs_service")
    cti_agent_id = (cti_agent_id or "").strip() or None

    def insert(conn: Conn) -> int:
        if store.users.login_exists(conn, login):
            raise ValidationError("err.login_exists", login=login)
        if cti_agent_id and (owner := store.users.cti_id_owner(conn, cti_agent_id)):
            raise ValidationError("err.cti_id_taken", cti_id=cti_agent_id, login=owner)
        service_ids = []
        for code in services:
            row = conn.execute("SELECT id FROM services WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise NotFound("err.service_unknown", service=code)
            service_ids.append(row[0])
        return store.users.insert(
            conn,
            login=login,
            name=name,
            role=role,
            perms=perms,
            service_ids=service_ids,
            cti_agent_id=cti_agent_id,
        )

    uid = store.db.run_write(insert)
    user = store.users.get(uid)
    assert user is not None
    return user


def set_user_disabled(store: Store, login: str, disabled: bool = True) -> None:
    safe_input.check("login", login)

    def update(conn: Conn) -> None:
        if not store.users.set_disabled(conn, login, disabled):
            raise NotFound("err.unknown_user", login=login)

    store.db.run_write(update)


def parse_ivr_route(text: str) -> IvrRoute:
    safe_input.check("ivr", text)
    code, sep, name = text.partition("=")
    if not sep or not code.strip() or not name.strip():
        raise ValidationError("err.ivr_route_invalid", value=text)
    return IvrRoute(code.strip(), name.strip())


def normalize_sender(number: str) -> str:
    safe_input.check("sender", number)
    digits = number.replace("-", "").strip()
    if not SENDER_RE.fullmatch(digits):
        raise ValidationError("err.sender_invalid", number=number)
    return digits


def add_service(
    store: Store,
    *,
    code: str,
    name: str,
    callback_enabled: bool = True,
    sms_enabled: bool = True,
    cti_enabled: bool = True,
    outbound_ticket_mode: OutboundTicketMode | str = OutboundTicketMode.ON_DIAL,
    sl_threshold_s: int = 20,
    timezone: str = "Asia/Seoul",
    sender_numbers: Sequence[str] = (),
    ivr_routes: Sequence[IvrRoute | str] = (),
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Service:
    safe_input.check("service_code", code)
    safe_input.check("service_name", name)
    safe_input.check("timezone", timezone)
    if not SERVICE_CODE_RE.fullmatch(code):
        raise ValidationError("err.service_code_invalid", code=code)
    name = _check_name(name)
    try:
        mode = OutboundTicketMode(outbound_ticket_mode)
    except ValueError:
        raise ValidationError("err.outbound_mode_invalid", mode=outbound_ticket_mode) from None
    if not 1 <= sl_threshold_s <= 3600:
        raise ValidationError("err.sl_threshold_invalid", value=sl_threshold_s)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("err.timezone_invalid", tz=timezone) from None
    t = thresholds
    if not (
        0 <= t.sl_crit_pct <= t.sl_warn_pct <= 100
        and 0 < t.waiting_warn <= t.waiting_crit
        and 0 < t.wait_warn_s <= t.wait_crit_s
    ):
        raise ValidationError("err.thresholds_invalid")
    senders = list(dict.fromkeys(normalize_sender(n) for n in sender_numbers))
    routes = [r if isinstance(r, IvrRoute) else parse_ivr_route(r) for r in ivr_routes]
    for route in routes:
        safe_input.check("ivr", f"{route.code}={route.name}")

    def insert(conn: Conn) -> int:
        if conn.execute("SELECT 1 FROM services WHERE code = ?", (code,)).fetchone():
            raise ValidationError("err.service_code_exists", code=code)
        return store.services.insert(
            conn,
            code=code,
            name=name,
            callback_enabled=callback_enabled,
            sms_enabled=sms_enabled,
            cti_enabled=cti_enabled,
            outbound_ticket_mode=mode,
            sl_threshold_s=sl_threshold_s,
            timezone=timezone,
            sender_numbers=senders,
            ivr_routes=routes,
            thresholds=thresholds,
        )

    sid = store.db.run_write(insert)
    service = store.services.get(sid)
    assert service is not None
    return service
