"""The detail of one send to one recipient (2-3 발송 내역): template, content, images, result, gateway."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from contiple_tui.domain.display import sms_result_text
from contiple_tui.domain.phone import format_phone
from contiple_tui.domain.sms_models import Message, MessageImage, MessageStatus, Recipient
from contiple_tui.i18n import t
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import cut, plain, plain_lines
from contiple_tui.widgets.sms_send_table import long_time


def detail_rows(
    msg: Message, recipient: Recipient | None, images: Sequence[MessageImage], zone: ZoneInfo
) -> list[tuple[str, str]]:
    """What the detail dialog shows, label and value, in the current language."""
    rows = [
        (t("smsh.detail.template"), msg.template_name or t("smsh.detail.no_template")),
        (t("smsh.detail.type"), str(msg.send_type)),
        (t("smsh.detail.sender"), format_phone(msg.sender_no)),
        (t("smsh.detail.sent_by"), msg.user_name or "-"),
        (t("smsh.detail.created"), long_time(msg.created_at, zone)),
    ]
    if msg.reserved_for is not None:
        rows.append((t("smsh.detail.reserved"), long_time(msg.reserved_for, zone)))
    status = t(f"sms.status.{msg.status}")
    if msg.status is MessageStatus.UNKNOWN:
        at = long_time(msg.last_lookup_at, zone) if msg.last_lookup_at else t("sms.outcome.never_looked_up")
        status = t("sms.outcome.detail_unknown", at=at)
    rows += [(t("smsh.detail.status"), status), (t("smsh.detail.recipients"), f"{msg.recipient_count:,}")]
    if msg.title:
        rows.append((t("smsh.detail.title_field"), msg.title))
    rows.append((t("smsh.detail.body"), msg.body))
    if images:
        shown = "\n".join(
            t(
                "smsh.detail.image",
                name=i.file_name,
                size=f"{len(i.data) / 1024:,.1f}",
                width=i.width,
                height=i.height,
            )
            for i in images
        )
    else:
        shown = t("smsh.detail.no_images")
    rows.append((t("smsh.detail.images"), shown))
    if recipient is not None:
        state = (
            "unknown"
            if msg.status is MessageStatus.UNKNOWN and recipient.state == "pending"
            else recipient.state
        )
        result = t(f"smsh.state.{state}")
        explained = sms_result_text(recipient.result_code, recipient.result_message)
        if explained:
            result += f" · {explained}"
        rows += [
            (t("smsh.detail.recipient"), format_phone(recipient.recipient_no)),
            (t("smsh.detail.result"), result),
            (t("smsh.detail.result_code"), recipient.result_code or "-"),
            (t("smsh.detail.updated"), long_time(recipient.updated_at, zone)),
        ]
    rows += [
        (t("smsh.detail.request_id"), msg.request_id or "-"),
        (
            t("smsh.detail.gateway"),
            t(f"smsh.gateway.{msg.gateway}") if msg.gateway in ("sandbox", "nhn") else msg.gateway,
        ),
    ]
    return rows


class SmsDetailScreen(Dialog[str | None]):
    """One recipient of one send: template, content, images, the recipient's result, where it went."""

    DEFAULT_CSS = """
    SmsDetailScreen { align: center middle; }
    SmsDetailScreen #smsh-detail-dialog { width: 80; max-width: 98%; height: auto; max-height: 95%;
                                          border: thick $primary; background: $surface; padding: 0 1; }
    SmsDetailScreen #smsh-detail-title { text-style: bold; height: 1; margin: 0; }
    SmsDetailScreen #smsh-detail-scroll { height: auto; }
    SmsDetailScreen #smsh-detail-body { height: auto; }
    SmsDetailScreen #smsh-detail-sandbox { background: $warning 30%; text-style: bold; height: 1; margin: 0; }
    SmsDetailScreen .smsh-buttons { height: auto; align-horizontal: right; }
    SmsDetailScreen .smsh-buttons Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "key.close", id="sms_history.detail_close"),
        Binding("c", "cancel_reservation", "key.cancel_reservation", id="sms_history.detail_cancel"),
    ]

    def __init__(
        self,
        msg: Message,
        recipient: Recipient | None,
        images: Sequence[MessageImage],
        zone: ZoneInfo,
        may_cancel: bool,
    ) -> None:
        super().__init__()
        self.msg = msg
        self.recipient = recipient
        self.images = list(images)
        self.zone = zone
        self.may_cancel = may_cancel

    def compose(self) -> ComposeResult:
        msg = self.msg
        number = (
            format_phone(self.recipient.recipient_no) if self.recipient else format_phone(msg.first_recipient)
        )
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in detail_rows(msg, self.recipient, self.images, self.zone):
            grid.add_row(label, plain_lines(value, max_chars=5000))
        with Vertical(id="smsh-detail-dialog"):
            yield Static(
                plain(t("smsh.detail.title", id=msg.id, number=cut(number, 40))), id="smsh-detail-title"
            )
            if msg.gateway == "sandbox":
                yield Static(Text(t("smsh.gateway.sandbox")), id="smsh-detail-sandbox")
            with VerticalScroll(id="smsh-detail-scroll"):
                yield Static(grid, id="smsh-detail-body")
            with Horizontal(classes="smsh-buttons"):
                if self.may_cancel:
                    yield Button(t("smsh.cancel.button"), variant="error", id="smsh-detail-cancel")
                yield Button(t("key.close"), variant="primary", id="smsh-detail-close")

    def on_mount(self) -> None:
        self.query_one("#smsh-detail-scroll").focus()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The content scrolls so that the buttons stay on a small terminal (a long MMS body)."""
        chrome = 2 + 1 + 3 + 2 + (1 if self.msg.gateway == "sandbox" else 0)  # border, title, buttons, margin
        self.query_one("#smsh-detail-scroll").styles.max_height = max(3, self.size.height - chrome)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reservation":
            return self.may_cancel
        return True

    @on(Button.Pressed, "#smsh-detail-close")
    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#smsh-detail-cancel")
    def action_cancel_reservation(self) -> None:
        if self.may_cancel:
            self.dismiss("cancel")
