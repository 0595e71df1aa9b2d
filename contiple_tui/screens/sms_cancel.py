"""Asks before a reserved send is cancelled (2-3 발송 내역)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from contiple_tui.domain.sms_models import Message
from contiple_tui.i18n import t
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.sms_send_table import long_time


class ConfirmCancelScreen(Dialog[bool]):
    """Asks before a reservation is cancelled; "keep it" has the focus, Esc keeps it too."""

    DEFAULT_CSS = """
    ConfirmCancelScreen { align: center middle; }
    ConfirmCancelScreen #smsh-confirm-dialog { width: 64; max-width: 98%; height: auto; border: thick $error;
                                               background: $surface; padding: 0 1; }
    ConfirmCancelScreen #smsh-confirm-text { height: auto; margin: 1 0; }
    ConfirmCancelScreen .smsh-buttons { height: auto; align-horizontal: right; }
    ConfirmCancelScreen .smsh-buttons Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "keep", "key.keep_reservation", id="sms_history.confirm_keep")]

    def __init__(self, msg: Message, zone: ZoneInfo) -> None:
        super().__init__()
        self.msg = msg
        self.zone = zone

    def compose(self) -> ComposeResult:
        msg = self.msg
        text = t(
            "smsh.cancel.question",
            id=msg.id,
            at=long_time(msg.reserved_for, self.zone)[:16],
            count=f"{msg.recipient_count:,}",
        )
        text += "\n" + t("smsh.cancel.sandbox" if msg.gateway == "sandbox" else "smsh.cancel.gateway")
        with Vertical(id="smsh-confirm-dialog"):
            yield Static(Text(t("smsh.cancel.button"), style="bold"))
            yield Static(Text(text), id="smsh-confirm-text")
            with Horizontal(classes="smsh-buttons"):
                yield Button(t("smsh.cancel.yes"), variant="error", id="smsh-confirm-yes")
                yield Button(t("smsh.cancel.no"), variant="primary", id="smsh-confirm-no")

    def on_mount(self) -> None:
        self.query_one("#smsh-confirm-no", Button).focus()

    @on(Button.Pressed, "#smsh-confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#smsh-confirm-no")
    def action_keep(self) -> None:
        self.dismiss(False)
