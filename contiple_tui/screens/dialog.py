"""What every dialog of the console shares: a footer of its own keys."""

from __future__ import annotations

from typing import TypeVar

from textual import events, on
from textual.screen import ModalScreen

from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.key_footer import KeyFooter

Result = TypeVar("Result")


class Dialog(Localized, ModalScreen[Result]):
    """A modal dialog. Where the screen under it has a footer (the console; not the kiosk), the dialog
    has its own over it: the one underneath would list the keys of the view behind, which do nothing
    while the dialog is open."""

    @on(events.Mount)
    def _own_footer(self) -> None:
        base = self.app.screen_stack[0]
        if base is not self and base.query(KeyFooter):
            self.mount(KeyFooter())
