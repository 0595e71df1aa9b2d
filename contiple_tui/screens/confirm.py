"""A yes/no question asked before something is lost (a template deleted, unsaved work dropped)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import plain, plain_lines


class ConfirmScreen(Dialog[bool]):
    """A yes/no question; the safe answer has the focus, Escape gives it."""

    # The id comes from the templates screen, where the dialog was born: users' keymaps name it.
    BINDINGS = [Binding("escape", "dismiss(False)", "key.cancel", id="sms_templates.confirm_cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #st-confirm { width: 64; max-width: 96%; height: auto; border: thick $error; background: $surface;
                  padding: 1 2; }
    #st-confirm-title { text-style: bold; }
    #st-confirm-body { margin: 1 0; }
    #st-confirm-buttons { height: auto; align-horizontal: right; }
    #st-confirm-buttons Button { margin-left: 1; }
    """

    def __init__(self, title: str, body: str, yes: str, no: str) -> None:
        super().__init__()
        self._title, self._body, self._yes, self._no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="st-confirm"):
            yield Static(plain(self._title, max_chars=200), id="st-confirm-title")
            yield Static(plain_lines(self._body), id="st-confirm-body")
            with Horizontal(id="st-confirm-buttons"):
                yield Button(self._yes, id="st-confirm-yes", variant="error")
                yield Button(self._no, id="st-confirm-no")

    def on_mount(self) -> None:
        self.query_one("#st-confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "st-confirm-yes")
