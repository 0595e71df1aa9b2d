"""`contiple-tui sms send | history | cancel`: the composer's rules and gateway, from a shell.

Exit 0 when sent, reserved or cancelled; 2 with the reason on any rule violation or gateway refusal
(nothing was sent); 3 when the request went out and whether it was sent is unknown yet (its answer was
lost, or could not be stored): do NOT retry, `sms history` shows the outcome once it is known.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from contiple_tui.cli.common import chosen_services, print_table
from contiple_tui.errors import ValidationError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean


def run_sms(args: argparse.Namespace, cfg, store, login: str) -> int:
    from contiple_tui.core.session import resolve_user
    from contiple_tui.domain import permissions

    user = resolve_user(store, login)
    service = chosen_services(
        store,
        user,
        args.sms_service or args.service or cfg.service,
        permissions.may_view_sms,
        permissions.Action.SEND_SMS,
    )[0]
    if args.action == "send":
        return _send(args, cfg, store, user, service)
    if args.action == "history":
        return _history(args, cfg, store, user, service)
    if args.action == "senders":
        return _senders(args, cfg, store, user, service)
    return _cancel(args, cfg, store, user, service)


def _send(args, cfg, store, user, service) -> int:
    from contiple_tui.core import sms
    from contiple_tui.domain import sms_rules as rules
    from contiple_tui.domain.images import check_image_file
    from contiple_tui.sms.factory import gateway_for, gateway_name

    if args.body_file is not None:
        try:
            body = Path(args.body_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                "sms.err.body_file", path=args.body_file, reason=getattr(exc, "strerror", None) or str(exc)
            ) from None
        body = body.rstrip("\n")
    else:
        body = args.body
    images = tuple(check_image_file(p) for p in args.image)
    if args.send_type == "auto":
        send_type = rules.auto_type(body, len(images))
    else:
        send_type = rules.SendType(args.send_type.upper())
    title = args.title
    if send_type is rules.SendType.MMS and not title.strip():
        title = _default_title(body)
    if not service.sender_numbers:
        raise ValidationError("sms.err.no_sender_numbers")
    sender = args.sender or service.sender_numbers[0]
    draft = sms.Draft(
        send_type=send_type,
        sender_no=sender,
        body=body,
        recipients=args.to,
        title=title,
        images=images,
        reserve=args.at,
    )
    prepared = sms.prepare(store, user, service, draft)
    gateway = gateway_for(cfg.sms, service)
    try:
        outcome = sms.send(store, user, service, prepared, gateway)
    finally:
        gateway.close()
    if outcome.duplicates:
        print(t("sms.duplicates_removed", count=outcome.duplicates))
    if gateway_name(cfg.sms, service) == "sandbox":
        print(t("sms.cli.sandbox"))
    if prepared.reserve_at is not None:
        print(
            t(
                "sms.cli.reserved",
                id=outcome.message_id,
                count=outcome.recipients,
                at=prepared.reserve_at.strftime(rules.RESERVE_FORMAT),
                zone=service.timezone,
                type=str(prepared.send_type),
            )
        )
    else:
        print(
            t(
                "sms.cli.sent",
                id=outcome.message_id,
                count=outcome.recipients,
                type=str(prepared.send_type),
                status=t(f"sms.status.{outcome.status}"),
            )
        )
    return 0


def _default_title(body: str) -> str:
    """`--type auto` turned MMS without --title: the first line, cut to the 40-byte title limit."""
    from contiple_tui.domain.sms_rules import MMS_TITLE_LIMIT, cut_to_bytes

    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return cut_to_bytes(first, MMS_TITLE_LIMIT)


def _history(args, cfg, store, user, service) -> int:
    from contiple_tui.core import sms
    from contiple_tui.sms.factory import gateway_by_name

    sms.refresh(store, lambda s, name: gateway_by_name(cfg.sms, s, name), [service])
    zone = ZoneInfo(service.timezone)
    rows = []
    for msg in sms.history(store, user, service, sms.history_filter(user, service), limit=args.limit):
        when = datetime.fromtimestamp(msg.created_at, zone).strftime("%Y-%m-%d %H:%M")
        at = (
            datetime.fromtimestamp(msg.reserved_for, zone).strftime("%Y-%m-%d %H:%M")
            if msg.reserved_for
            else ""
        )
        to = msg.first_recipient + (
            t("sms.more", count=msg.recipient_count - 1) if msg.recipient_count > 1 else ""
        )
        text = (msg.title or msg.body).replace("\n", " ")
        rows.append(
            (
                str(msg.id),
                when,
                at,
                str(msg.send_type),
                msg.sender_no,
                to,
                text[:30] + ("…" if len(text) > 30 else ""),
                t(f"sms.status.{msg.status}"),
                msg.user_name,
            )
        )
    headers = [
        t(f"sms.col.{c}")
        for c in ("id", "created", "reserved", "type", "sender", "to", "content", "status", "user")
    ]
    print_table(headers, rows)
    return 0


def _senders(args, cfg, store, user, service) -> int:
    """List the service's sender numbers; --sync replaces them with NHN Cloud's usable ones."""
    from contiple_tui.core import sms
    from contiple_tui.domain.phone import format_phone
    from contiple_tui.sms.factory import gateway_by_name

    if args.sync:
        gateway = gateway_by_name(cfg.sms, service, "nhn")
        try:
            added, removed = sms.sync_sender_numbers(store, user, service, gateway)
        finally:
            gateway.close()
        service = store.services.get(service.id)
        print(clean(t("sms.cli.synced", added=", ".join(added) or "-", removed=", ".join(removed) or "-")))
    for number in service.sender_numbers:
        print(clean(f"{number}  {format_phone(number)}"))
    return 0


def _cancel(args, cfg, store, user, service) -> int:
    from contiple_tui.core import sms
    from contiple_tui.sms.factory import gateway_by_name

    msg = sms.own_message(store, user, service, args.message_id)  # not yours reads as not found
    gateway = gateway_by_name(cfg.sms, service, msg.gateway)
    try:
        count = sms.cancel_reservation(store, user, service, msg.id, gateway)
    finally:
        gateway.close()
    print(t("sms.cli.cancelled", id=msg.id, count=count))
    return 0


__all__ = ["run_sms"]
