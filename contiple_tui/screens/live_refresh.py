"""What the console shows when the store changed, by another console's commit or its own: the app polls
``check`` every refresh period (PRAGMA data_version, through core/console.py's ``changes``).

Only the topics of data that changed count (the feed position or the intake lease change none): the
view on screen reloads when it shows one of them, hidden views when shown again (screens/menu_views.py).
New callbacks and assignments are news (widgets/notices.py) and move the menu's badge; a change of the
user, their services or the service in use rebuilds the header and menus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from textual.app import App

from contiple_tui.core.console import ConsoleService
from contiple_tui.errors import ContipleError, IdentityError
from contiple_tui.screens.console_shell import ConsoleShell
from contiple_tui.widgets.notices import ConsoleNotices, say_store_fault, store_answered

log = logging.getLogger(__name__)


class LiveRefresh:
    """``signed_out`` ends the console with its message when the user was disabled or removed."""

    def __init__(
        self,
        app: App,
        service: ConsoleService,
        shell: ConsoleShell,
        notices: ConsoleNotices,
        *,
        signed_out: Callable[[str], None],
    ) -> None:
        self.app = app
        self.service = service
        self.shell = shell
        self.notices = notices
        self.signed_out = signed_out

    def check(self) -> None:
        """A fault of the store (I/O error, damaged page, full disk) is said on screen once, not on every
        poll, and the console stays up."""
        if not self.app.is_running:  # shutting down: the views are being taken apart under the timer
            return
        try:
            read = self._read_changes()
        except IdentityError as exc:  # disabled or removed while signed in
            self.signed_out(exc.message())
        except ContipleError as exc:  # a StoreError: the disk is full, a page is damaged, an I/O error,
            # the database server is away. Said once per kind of fault, whatever its details of the moment.
            if say_store_fault(self.app, exc):
                log.error("store fault while checking for changes: %s", exc)
        else:
            if read:
                store_answered(self.app)  # a new fault is news

    def _read_changes(self) -> bool:
        """True when the store changed and was read without a fault."""
        changes = self.service.changes()
        if changes is None:
            return False
        if changes.identity:
            self.shell.identity_changed()
            return True
        fault: ContipleError | None = None
        if "callbacks" in changes.topics:
            try:
                self.announce()
            except ContipleError as exc:  # said by check; the views still refresh (they say their own)
                fault = exc
        self.shell.data_changed(changes.topics)
        if fault is not None:
            raise fault
        return True

    def announce(self) -> None:
        """News since the last look (core/console.py says what), then the badge."""
        self.notices.hold(self.service.announce(), self.service.announce_held)
        self.update_badge()

    def update_badge(self) -> None:
        self.shell.set_badge(self.service.assigned_to_me())
