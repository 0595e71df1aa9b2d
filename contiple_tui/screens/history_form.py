"""이력 등록 (register history): a ticket form, prefilled from the selected callback when there is one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select, Static, TextArea

from contiple_tui.core import callbacks as cb
from contiple_tui.core.session import Session
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import cut, plain


class HistoryFormScreen(Dialog[int | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "key.cancel", id="history.cancel"),
        Binding("ctrl+s", "save", "key.save", id="history.save"),
    ]

    def __init__(self, session: Session, callback: cb.Callback | None) -> None:
        super().__init__()
        self.session = session
        self.callback = callback

    def compose(self) -> ComposeResult:
        c = self.callback
        with Vertical(id="history-dialog"):
            yield Static(
                plain(t("history.title") + (f" · {cut(format_phone(c.customer_phone), 40)}" if c else "")),
                id="history-title",
            )
            yield Input(placeholder=t("history.subject"), id="history-subject", max_length=200)
            with Horizontal(classes="history-row"):
                yield Input(
                    clean(c.customer_phone, 16) if c else "",
                    placeholder=t("history.phone"),
                    id="history-phone",
                    restrict=r"[0-9-]*",
                    max_length=16,
                )
                yield Input(
                    clean(c.customer_name, 50) if c else "",
                    placeholder=t("history.name"),
                    id="history-name",
                    max_length=50,
                )
                yield Select(
                    [(t("history.out"), "OUT"), (t("history.in"), "IN")],
                    value="OUT",
                    allow_blank=False,
                    id="history-direction",
                )
            yield TextArea(id="history-memo")
            yield Static(id="history-error")
            with Horizontal(classes="history-buttons"):
                yield Button(t("key.save"), variant="primary", id="history-save")
                yield Button(t("key.cancel"), id="history-cancel")

    def on_mount(self) -> None:
        self.query_one("#history-subject", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "history-save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        session = self.session
        try:
            ticket = session.callbacks.register_history(
                subject=self.query_one("#history-subject", Input).value,
                memo=self.query_one("#history-memo", TextArea).text,
                phone=self.query_one("#history-phone", Input).value or None,
                name=self.query_one("#history-name", Input).value or None,
                direction=str(self.query_one("#history-direction", Select).value),
                callback_id=self.callback.id if self.callback else None,
            )
        except ContipleError as exc:
            self.query_one("#history-error", Static).update(plain(f"⚠ {exc.message()}"))
            return
        self.app.notify(t("history.saved", id=ticket))
        self.dismiss(ticket)
