"""``serve``: the console (or the wall-TV board) in a web browser, through textual-serve.

Each browser tab that connects starts one console process, as the user ``serve`` was started for
(``--user``), on the same data directory. textual-serve has no authentication of its own: whoever
reaches the port *is* that user. So the server binds to 127.0.0.1 unless told otherwise, and
docs/deployment.md puts it behind an authenticating reverse proxy. The optional ``[web]`` extra
brings textual-serve; without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

from contiple_tui.cli.common import PROG
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean


def loopback(host: str) -> bool:
    """Only this machine can reach the address (``localhost``, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_command(args: argparse.Namespace, cfg, login: str) -> str:
    """The shell command textual-serve runs for each browser tab (it runs it through a shell, so every
    word is quoted): this program, this data directory, this user, and the console or the board."""
    words = [sys.executable, "-m", "contiple_tui", "--data-dir", str(cfg.data_dir), "--user", login]
    words += ["--lang", cfg.lang]
    for option, value in (("--theme", args.theme), ("--cti-url", args.cti_url)):
        if value:
            words += [option, value]
    if args.debug:
        words.append("--debug")
    if args.wallboard:
        words += ["wallboard", "--kiosk", "--view", args.view]
    elif args.service:
        words += ["--service", args.service]
    return shlex.join(words)


def _closing_server(server_class):
    """textual-serve's Server, closing the browsers' websockets when it stops (SIGTERM, Ctrl+C): each
    tab's console then gets its normal quit at once, instead of when aiohttp's shutdown gives up
    waiting for the open connections (tens of seconds). It builds on textual-serve 1.1's
    ``Server._process_messages``; tests/test_serve.py (SIGTERM with a tab open) fails if that changes."""

    class ClosingServer(server_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.open_sockets: set = set()

        async def _process_messages(self, websocket, app_service) -> None:
            self.open_sockets.add(websocket)
            try:
                await super()._process_messages(websocket, app_service)
            finally:
                self.open_sockets.discard(websocket)

        async def on_shutdown(self, app) -> None:
            for websocket in list(self.open_sockets):
                await websocket.close()

    return ClosingServer


def run_serve(args: argparse.Namespace, cfg, store, login: str) -> int:
    from contiple_tui.core.session import resolve_user
    from contiple_tui.domain import permissions

    user = resolve_user(store, login)  # unknown or disabled: refused here, not in every browser tab
    if args.wallboard and not any(permissions.may_view_wallboard(user, s) for s in store.services.list()):
        raise ContipleError("wb.no_services")
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ContipleError("err.serve_missing") from None
    # textual-serve appends "/ws" and "/static/..." to the public address: no trailing slash.
    public_url = (args.public_url or "").rstrip("/") or f"http://{args.host}:{args.port}"
    what = t("serve.board") if args.wallboard else t("serve.console")
    print(t("serve.serving", what=what, login=clean(login), url=clean(public_url)))
    print(t("serve.no_auth"), file=sys.stderr)
    if not loopback(args.host):
        print(f"{PROG}: {t('serve.not_loopback', host=clean(args.host))}", file=sys.stderr)
    title = f"Contiple · {login}"
    server = _closing_server(Server)(
        served_command(args, cfg, login), host=args.host, port=args.port, title=title, public_url=public_url
    )
    server.serve(debug=False)
    return 0
