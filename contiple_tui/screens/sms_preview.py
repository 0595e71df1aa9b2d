"""Before an SMS/MMS leaves: what the handset will show, how many get it, when, and through which gateway."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from contiple_tui.core.sms import Prepared
from contiple_tui.domain.phone import format_phone
from contiple_tui.domain.sms_rules import RESERVE_FORMAT, SendType, body_limit, byte_count
from contiple_tui.i18n import t
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import cut, plain_lines


class SmsPreviewScreen(Dialog[bool]):
    DEFAULT_CSS = """
    SmsPreviewScreen { align: center middle; }
    #preview-dialog { width: 60; max-width: 96%; height: auto; max-height: 96%; border: thick $primary;
                      background: $surface; padding: 0 1; }
    #preview-title { text-style: bold; }
    #preview-phone { border: round $panel-lighten-2; height: auto; max-height: 14; padding: 0 1; }
    #preview-phone .handset-title { text-style: bold; }
    #preview-phone .handset-images { color: $text-muted; }
    #preview-facts { height: auto; margin-top: 1; }
    #preview-sandbox { background: $warning 30%; text-style: bold; }
    #preview-buttons { height: auto; margin-top: 1; }
    #preview-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(False)", "key.cancel", id="preview.cancel"),
        Binding("ctrl+s", "dismiss(True)", "key.sms_send", id="preview.send"),
    ]

    def __init__(self, prepared: Prepared, gateway: str, zone: str) -> None:
        super().__init__()
        self.prepared = prepared
        self.gateway = gateway
        self.zone = zone

    def compose(self) -> ComposeResult:
        p = self.prepared
        with Vertical(id="preview-dialog"):
            yield Static(t("sms.preview.title", type=str(p.send_type)), id="preview-title", markup=False)
            with VerticalScroll(id="preview-phone") as phone:
                phone.border_title = Content(cut(format_phone(p.sender_no), 30))
                if p.send_type is SendType.MMS and p.title:
                    yield Static(plain_lines(p.title), classes="handset-title")
                yield Static(plain_lines(p.body, max_chars=5000))
                if p.images:
                    yield Static(
                        t(
                            "sms.preview.images",
                            count=len(p.images),
                            names=", ".join(cut(i.file_name, 60) for i in p.images),
                        ),
                        classes="handset-images",
                        markup=False,
                    )
            facts = [
                t("sms.preview.recipients", count=len(p.recipients), first=format_phone(p.recipients[0]))
            ]
            if p.duplicates:
                facts.append(t("sms.duplicates_removed", count=p.duplicates))
            facts.append(
                t("sms.preview.bytes", used=f"{byte_count(p.body):,}", limit=f"{body_limit(p.send_type):,}")
            )
            if p.reserve_at is not None:
                facts.append(t("sms.preview.at", at=p.reserve_at.strftime(RESERVE_FORMAT), zone=self.zone))
            else:
                facts.append(t("sms.preview.now"))
            yield Static(plain_lines("\n".join(facts)), id="preview-facts")
            if self.gateway == "sandbox":
                yield Static(t("sms.compose.sandbox"), id="preview-sandbox", markup=False)
            with Horizontal(id="preview-buttons"):
                label = "sms.preview.reserve" if p.reserve_at is not None else "sms.preview.send"
                yield Button(t(label, count=len(p.recipients)), variant="primary", id="preview-send")
                yield Button(t("key.cancel"), id="preview-cancel")

    def on_mount(self) -> None:
        self.query_one("#preview-send", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "preview-send")
