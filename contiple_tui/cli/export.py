"""``export callbacks``: the callback list to an .xlsx file, for cron jobs."""

from __future__ import annotations

import argparse
from pathlib import Path

from contiple_tui.cli.common import chosen_services
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean


def run_export(args: argparse.Namespace, cfg, store, login: str) -> int:
    """export callbacks: every callback the user may see that matches the filters, for cron jobs."""
    import re
    from datetime import date

    from contiple_tui.core.session import resolve_user
    from contiple_tui.domain import permissions
    from contiple_tui.domain.models import CallbackStatus
    from contiple_tui.domain.queries import CallbackQuery
    from contiple_tui.errors import ValidationError
    from contiple_tui.export import export_callbacks

    def day(value: str | None) -> date | None:
        if value is None:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError("err.date_invalid", value=value) from None

    query = CallbackQuery(
        date_from=day(args.date_from),
        date_to=day(args.date_to),
        status=CallbackStatus(args.status) if args.status else None,
    )
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError("err.date_range_reversed")
    user = resolve_user(store, login)
    services = chosen_services(
        store,
        user,
        args.export_service or args.service,
        permissions.may_view_callbacks,
        permissions.Action.VIEW_CALLBACKS,
    )
    path = Path(args.output).expanduser().absolute()
    rows = export_callbacks(store, user, services, query, path, lang=cfg.lang)
    print(clean(t("cli.export.done", path=path, rows=rows)))
    return 0
