"""Operator commands: ``users`` and ``services``."""

from __future__ import annotations

import argparse
import logging

from contiple_tui.cli.common import os_login, print_table
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean

log = logging.getLogger(__name__)


def run_users(args: argparse.Namespace, store) -> int:
    from contiple_tui.core import directory

    if args.action == "add":
        user = directory.add_user(
            store,
            login=args.login,
            name=args.name,
            role=args.role,
            perms=args.perm,
            services=args.services,
            cti_agent_id=args.cti_id,
        )
        log.info(
            "operator %s: users add %s (role %s, services %s)",
            os_login(),
            user.login,
            user.role,
            args.services,
        )
        print(clean(t("cli.users.added", login=user.login)))
        return 0
    if args.action in ("disable", "enable"):
        directory.set_user_disabled(store, args.login, args.action == "disable")
        log.info("operator %s: users %s %s", os_login(), args.action, args.login)
        print(clean(t(f"cli.users.{args.action}d", login=args.login)))
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
        log.info("operator %s: services add %s", os_login(), service.code)
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
