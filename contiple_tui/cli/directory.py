"""Operator commands: ``users`` and ``services``."""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from contiple_tui.cli import ssh_keys
from contiple_tui.cli.common import os_login, print_table
from contiple_tui.errors import ContipleError, NotFound, ValidationError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean

log = logging.getLogger(__name__)


def run_users(args: argparse.Namespace, store) -> int:
    from contiple_tui.core import directory

    if args.action == "keys":
        return _run_keys(args, store)
    if args.action == "add":
        key = (
            _read_key(args.ssh_key) if args.ssh_key else None
        )  # a bad key file is said before anything is added
        user = directory.add_user(
            store,
            login=args.login,
            name=args.name,
            role=args.role,
            perms=args.perm,
            services=args.services,
            cti_agent_id=args.cti_id,
        )
        _record(store, "users add", f"{user.login} role={user.role} services={','.join(args.services)}")
        print(clean(t("cli.users.added", login=user.login)))
        if key is not None:
            _add_key(args, store, user.login, key)
        return 0
    if args.action in ("disable", "enable"):
        directory.set_user_disabled(store, args.login, args.action == "disable")
        _record(store, f"users {args.action}", args.login)
        print(clean(t(f"cli.users.{args.action}d", login=args.login)))
        changed = ssh_keys.set_keys_enabled(_keys_path(args), args.login, args.action == "enable")
        if changed:
            print(clean(t(f"cli.users.keys.{args.action}d", count=changed, file=_keys_path(args))))
        return 0
    codes = {s.id: s.code for s in store.services.list()}
    rows = [
        (
            u.login,
            u.name,
            t(f"role.{u.role}"),
            ",".join(sorted(str(p) for p in u.perms)) or "-",
            ",".join(codes[s] for s in u.service_ids),
            u.cti_agent_id or "-",
            t("state.disabled") if u.disabled else t("state.active"),
        )
        for u in store.users.list()
    ]
    print_table(
        [t(f"col.{c}") for c in ("login", "name", "role", "perms", "services", "cti_id", "state")], rows
    )
    return 0


def run_services(args: argparse.Namespace, store) -> int:
    from contiple_tui.core import directory

    if args.action == "add":
        service = directory.add_service(
            store,
            code=args.code,
            name=args.name,
            callback_enabled=not args.no_callback,
            sms_enabled=not args.no_sms,
            cti_enabled=not args.no_cti,
            outbound_ticket_mode=args.outbound_ticket,
            sl_threshold_s=args.sl_threshold,
            timezone=args.timezone,
            sender_numbers=args.sender,
            ivr_routes=args.ivr,
        )
        _record(store, "services add", service.code)
        print(clean(t("cli.services.added", code=service.code)))
        return 0
    yes, no = t("word.on"), t("word.off")
    rows = [
        (
            s.code,
            s.name,
            yes if s.callback_enabled else no,
            yes if s.sms_enabled else no,
            yes if s.cti_enabled else no,
            str(s.outbound_ticket_mode),
            f"{s.sl_threshold_s}s",
            s.timezone,
            ",".join(s.sender_numbers) or "-",
            ",".join(f"{r.code}={r.name}" for r in s.ivr_routes) or "-",
        )
        for s in store.services.list()
    ]
    cols = ("code", "name", "callback", "sms", "cti", "outbound", "sl", "tz", "senders", "ivr")
    print_table([t(f"col.{c}") for c in cols], rows)
    return 0


def _keys_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "authorized_keys", None)
    return Path(given).expanduser() if given else ssh_keys.default_path()


def _read_key(file: str) -> ssh_keys.PublicKey:
    try:
        text = Path(file).expanduser().read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValidationError("err.ssh_key_unreadable", file=file, reason=exc.strerror or str(exc)) from None
    return ssh_keys.parse_public_key(text)


def _add_key(args: argparse.Namespace, store, login: str, key: ssh_keys.PublicKey) -> None:
    from contiple_tui.domain.models import Role

    user = store.users.get_by_login(login)
    if user is None:
        raise NotFound("err.unknown_user", login=login)
    path = _keys_path(args)
    kiosk = user.role is Role.WALLBOARD
    ssh_keys.add_key(path, key, store.data_dir, login, kiosk)
    _record(store, "users keys add", f"{login} {key.fingerprint}")
    what = t("cli.users.keys.kiosk" if kiosk else "cli.users.keys.console")
    print(clean(t("cli.users.keys.added", fingerprint=key.fingerprint, login=login, what=what, file=path)))


def _run_keys(args: argparse.Namespace, store) -> int:
    path = _keys_path(args)
    if args.keys_action == "add":
        _add_key(args, store, args.login, _read_key(args.key_file))
        return 0
    if args.keys_action == "remove":
        removed = ssh_keys.remove_keys(path, args.login, args.fingerprint)
        if not removed:
            raise NotFound("err.ssh_key_none", login=args.login, file=path)
        _record(store, "users keys remove", f"{args.login} ({removed})")
        print(clean(t("cli.users.keys.removed", count=removed, login=args.login)))
        return 0
    rows = [
        (login, fingerprint, t("state.active") if enabled else t("state.disabled"))
        for login, fingerprint, enabled in ssh_keys.keys_of(path, args.login)
    ]
    print_table([t("col.login"), t("col.fingerprint"), t("col.state")], rows)
    return 0


def operator() -> str:
    """Who ran an operator command: the person behind sudo (SUDO_USER), else the OS login."""
    sudo = os.environ.get("SUDO_USER")
    return f"{sudo} (sudo)" if sudo else os_login()


def _record(store, action: str, detail: str) -> None:
    """The audit trail (who, when, what) and the log; the change itself is already committed."""
    who = operator()
    log.info("operator %s: %s %s", who, action, detail)
    try:
        store.audit.add(int(time.time()), who, action, detail)
    except ContipleError as exc:  # e.g. the disk filled up right after the change: said in the log
        log.error("audit not recorded (%s %s): %s", action, detail, exc)


def run_audit(args: argparse.Namespace, store) -> int:
    """``audit [--limit N]``: the operator commands, newest first, in UTC."""
    rows = [
        (datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S"), who, action, detail)
        for at, who, action, detail in store.audit.recent(args.limit)
    ]
    print_table([t("col.when_utc"), t("col.operator"), t("col.action"), t("col.detail")], rows)
    return 0
