"""What every command shares: the program's name, its tables, and choosing the user's service.

Imports stay lazy here as everywhere in the CLI: ``contiple-tui --version`` must be fast and must not
import textual.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence

from contiple_tui.errors import NotFound, PermissionDenied
from contiple_tui.safe_text import clean

PROG = "contiple-tui"


def debugging(args) -> bool:
    """--debug or CONTIPLE_TUI_DEBUG=1: the log in detail."""
    return bool(getattr(args, "debug", False) or os.environ.get("CONTIPLE_TUI_DEBUG"))


def os_login() -> str:
    """Who runs the command, for the log: the OS login, or ``uid=N`` where there is none (a container's
    arbitrary uid with no passwd entry and no USER or LOGNAME)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid={os.getuid()}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Every cell is plain text (never markup) without control characters: data from the store is shown
    # as it is, and "[link=...]" or an escape sequence in a name stays inert.
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(Text(clean(header)), no_wrap=True)
    for row in rows:
        table.add_row(*(Text(clean(cell)) for cell in row))
    # Never wrap or cut a listing: scripts and people read one row per line. The table is only as
    # wide as its cells; the wide console just stops rich from squeezing it.
    Console(highlight=False, width=10_000).print(table)


def user_services(store, user) -> list:
    """The services the user belongs to, in the store's order."""
    return [s for s in store.services.list() if s.id in user.service_ids]


def chosen_services(store, user, code: str | None, may: Callable, action) -> list:
    """The service a command works on: ``code`` when given (it must exist and be one of the user's),
    otherwise every service of the user's where ``may(user, service)``; none is PermissionDenied(action)."""
    mine = user_services(store, user)
    if code is not None:
        if store.services.get_by_code(code) is None:
            raise NotFound("err.service_unknown", service=code)
        chosen = [s for s in mine if s.code == code]
        if not chosen:
            raise NotFound("err.not_member", service=code)
        return chosen
    usable = [s for s in mine if may(user, s)]
    if not usable:
        raise PermissionDenied(action)
    return usable
