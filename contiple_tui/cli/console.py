"""The full-screen commands: the console (no command) and ``wallboard`` (a board, or the kiosk)."""

from __future__ import annotations

import argparse
import logging
import sys

from contiple_tui.cli.common import PROG, user_services
from contiple_tui.errors import ContipleError
from contiple_tui.safe_text import clean

log = logging.getLogger(__name__)


def _log_crash(app) -> None:
    """A crash inside the screen: Textual printed the traceback on the terminal, which is gone once the
    person closes it; the log keeps it for the administrator."""
    from contiple_tui.widgets.textual_gaps import app_error

    error = app_error(app)
    if error is not None:
        log.error("the %s crashed", type(app).__name__, exc_info=error)


def run_console(cfg, store, login: str, service: str | None = None) -> int:
    from contiple_tui.core.session import Session, resolve_user

    user = resolve_user(store, login)
    # --service must name one of the user's services; the shared config's ui.service is only a
    # preference, ignored for people who are not in that service.
    if service is None and cfg.service in {s.code for s in user_services(store, user)}:
        service = cfg.service
    session = Session(store, user, service)
    from contiple_tui.driver import run_app
    from contiple_tui.terminal import require_tty

    require_tty()
    from contiple_tui.app import ContipleApp  # textual is imported only now

    app = ContipleApp(session=session, config=cfg)
    code = run_app(app, mouse=cfg.mouse)
    _log_crash(app)
    if code is not None:  # a signal, or the terminal went away (codes: contiple_tui/terminal.py)
        return code
    if app.exit_message:
        print(f"{PROG}: {clean(app.exit_message)}", file=sys.stderr)
        return 2
    return app.return_code or 0  # 1 after a crash (Textual printed it), never 0


def run_wallboard(args: argparse.Namespace, cfg, store, login: str) -> int:
    from contiple_tui.core.session import resolve_user
    from contiple_tui.domain import permissions

    interval = args.interval if args.interval is not None else cfg.wallboard_interval
    if not 1 <= interval <= 3600:
        raise ContipleError("err.interval_invalid")
    user = resolve_user(store, login)
    services = [s for s in store.services.list() if permissions.may_view_wallboard(user, s)]
    for code in args.board_services:
        if code not in {s.code for s in services}:
            raise ContipleError("err.not_member", service=code)
    if args.board_services:
        services = [s for s in services if s.code in args.board_services]
    if not services:
        raise ContipleError("wb.no_services")
    url = cfg.cti_url
    if not url:
        from contiple_tui.sim.embedded import running_simulator_url

        url = running_simulator_url(cfg.data_dir)
    from contiple_tui.driver import run_app
    from contiple_tui.terminal import require_tty

    require_tty()
    from contiple_tui.cti.client import CtiClient
    from contiple_tui.kiosk import WallboardApp

    client = CtiClient(url, token=cfg.cti_token, user=login) if url else None
    app = WallboardApp(
        store=store,
        client=client,
        services=services,
        config=cfg,
        view=args.view,
        interval=interval,
        kiosk=args.kiosk,
        per_service=args.per_service,
        refresh=(args.refresh if args.refresh is not None else cfg.kiosk_refresh) if args.kiosk else 0.0,
    )
    code = run_app(app, mouse=not args.kiosk and cfg.mouse)
    _log_crash(app)
    if code is not None:
        return code  # a signal or a hang-up
    return app.return_code or 0  # 1 after a crash, never 0
