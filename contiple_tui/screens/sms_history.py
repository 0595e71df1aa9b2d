"""2-3 발송 내역 (SMS history): sends with filters, a page at a time; the recipients of the selected
send with their results; one recipient's detail; cancel of a reservation not yet sent (at the gateway
too); Excel download of every matching recipient.

The core decides everything (scope, what may be cancelled); this module only shows it. Store reads
and every gateway call run in thread workers, never on the UI thread.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Select, Static

from contiple_tui.core import sms
from contiple_tui.domain.queries import HistoryFilter
from contiple_tui.domain.sms_models import Message, MessageImage, MessageStatus, Recipient
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import TableView
from contiple_tui.screens.callback_list import parse_day
from contiple_tui.screens.messages import ExportRequested
from contiple_tui.screens.sms_cancel import ConfirmCancelScreen
from contiple_tui.screens.sms_detail import SmsDetailScreen
from contiple_tui.sms.factory import gateway_by_name, gateway_name
from contiple_tui.widgets.date_input import date_input
from contiple_tui.widgets.sms_send_table import PAGE, Fetch, RecipientTable, SendTable, short_time

RECIPIENTS_MAX = 1000  # a send has at most 1,000 recipients: all of them fit the pane
DEFAULT_DAYS = 30
DEBOUNCE_S = 0.25
REFRESH_S = 10.0  # how often open sends are brought up to date while the view is shown


def _now(view) -> float:
    """The app's clock (frozen in tests) as a timestamp."""
    return view.now().timestamp()


class SmsHistoryView(TableView):
    TOPICS = frozenset({"sms_sends", "directory"})
    FOCUS = TABLE = "SendTable"
    DEFAULT_CSS = """
    SmsHistoryView .smsh-filters { height: 1; }
    SmsHistoryView .smsh-filters Input { width: 12; margin-right: 1; }
    SmsHistoryView .smsh-filters #smsh-recipient, SmsHistoryView .smsh-filters #smsh-sender { width: 15; }
    SmsHistoryView .smsh-filters Select { width: 1fr; margin-right: 1; }
    SmsHistoryView #smsh-sandbox { width: 1fr; height: 1; margin: 0; text-style: bold;
                                   background: $warning 30%; color: $text; }
    SmsHistoryView #smsh-sends { height: 3fr; }
    SmsHistoryView #smsh-side { height: 2fr; min-height: 5; }
    SmsHistoryView #smsh-rcpt-head { height: 1; background: $panel; }
    SmsHistoryView #smsh-rcpt-title { width: 1fr; height: 1; margin: 0; text-style: bold; }
    SmsHistoryView #smsh-cancel { margin: 0 0 0 1; min-width: 0; }
    SmsHistoryView #smsh-recipients { height: 1fr; }
    SmsHistoryView #smsh-foot { height: 1; }
    SmsHistoryView #smsh-status-line { width: 1fr; height: 1; margin: 0; color: $text-muted; }
    SmsHistoryView #smsh-status-line.-error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("i", "detail", "key.sms_detail", id="sms_history.detail"),
        Binding("c", "cancel_reservation", "key.cancel_reservation", id="sms_history.cancel"),
        Binding("x", "export", "key.export", id="sms_history.export"),
        Binding("r", "refresh_status", "key.refresh_status", id="sms_history.refresh"),
        Binding("slash", "focus_search", "key.search", id="sms_history.search"),
    ]

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self.can_focus = False
        self.zone = ZoneInfo(session.service.timezone)
        self.filter: HistoryFilter | None = None
        self._total: int | None = None
        self._ready = False  # filter events before this are the widgets' initial values
        self._refreshing = False
        self._recipients_timer = None
        self._recipients_asked = 0  # the latest recipients asked for: older answers are dropped
        self._debounce = None
        self._error: str | None = None
        self._stale = False  # the store changed while the view was hidden
        self._loads = 0  # the latest first-page load: older answers are dropped
        self.searches = 0  # searches started (or refused for their filter), for whoever waits on one

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        today = datetime.fromtimestamp(_now(self), self.zone).date()
        with Horizontal(classes="smsh-filters"):
            yield date_input(
                today - timedelta(days=DEFAULT_DAYS - 1), id="smsh-from", tooltip=t("smsh.filter.from")
            )
            yield date_input(today, id="smsh-to", tooltip=t("smsh.filter.to"))
            yield Select(
                [(str(s), s) for s in SendType], prompt=t("smsh.filter.type"), id="smsh-type", compact=True
            )
            yield Select(
                [(t(f"sms.status.{s}"), s) for s in MessageStatus],
                prompt=t("smsh.filter.status"),
                id="smsh-status",
                compact=True,
            )
        with Horizontal(classes="smsh-filters"):
            yield Input(
                placeholder=t("smsh.filter.recipient"),
                id="smsh-recipient",
                compact=True,
                restrict=r"[0-9]*",
                max_length=13,
                tooltip=t("smsh.filter.recipient"),
            )
            yield Input(
                placeholder=t("smsh.filter.sender"),
                id="smsh-sender",
                compact=True,
                restrict=r"[0-9]*",
                max_length=13,
                tooltip=t("smsh.filter.sender"),
            )
            badge = Static(Text(t("smsh.sandbox")), id="smsh-sandbox")
            badge.tooltip = t("smsh.sandbox_tip")
            yield badge
        yield SendTable(self.zone, with_user=self.session.user.is_admin, id="smsh-sends")
        with Vertical(id="smsh-side"):
            with Horizontal(id="smsh-rcpt-head"):
                yield Static(Text(t("smsh.no_send")), id="smsh-rcpt-title")
                yield Button(t("smsh.cancel.button"), id="smsh-cancel", compact=True, variant="error")
            yield RecipientTable(id="smsh-recipients")
        with Horizontal(id="smsh-foot"):
            yield Static(id="smsh-status-line")

    def on_mount(self) -> None:
        self.query_one("#smsh-sandbox").display = self.sandbox
        self.query_one("#smsh-cancel").display = False
        self.search()
        self.call_after_refresh(self._arm)
        self.set_interval(REFRESH_S, self._tick)
        self._tick()

    def _arm(self) -> None:
        self._ready = True

    @property
    def sandbox(self) -> bool:
        """New sends of this service go through the sandbox (no NHN Cloud keys)."""
        config = self.context.config
        return config is None or gateway_name(config.sms, self.session.service) == "sandbox"

    # -- search ---------------------------------------------------------------------------------

    def read_filter(self) -> HistoryFilter | None:
        session = self.session
        try:
            first = parse_day(self.query_one("#smsh-from", Input).value)
            last = parse_day(self.query_one("#smsh-to", Input).value)
        except ValueError as exc:
            self._say(t("err.date_invalid", value=str(exc)), error=True)
            return None

        def chosen(selector: str):
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None  # the blank choice: no filter

        send_type, status = chosen("#smsh-type"), chosen("#smsh-status")
        try:
            return sms.history_filter(
                session.user,
                session.service,
                start=None
                if first is None
                else int(datetime.combine(first, time.min, self.zone).timestamp()),
                end=None
                if last is None
                else int(datetime.combine(last + timedelta(days=1), time.min, self.zone).timestamp()),
                send_type=None if send_type is None else SendType(send_type),
                status=None if status is None else MessageStatus(status),
                recipient=self.query_one("#smsh-recipient", Input).value,
                sender_no=self.query_one("#smsh-sender", Input).value,
            )
        except ContipleError as exc:
            self._say(exc.message(), error=True)
            return None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        # Debounced: typing a number searches once, not once per digit.
        if not self._ready:
            return
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_S, self.search)

    @on(Select.Changed)
    def _chosen(self) -> None:
        if self._ready:
            self.search()

    def search(self) -> None:
        self.searches += 1
        f = self.read_filter()
        if f is None:
            return
        self._error = None
        self.filter = f
        self._total = None
        self.query_one(RecipientTable).highlight = f.recipient
        self._search(f)

    def _search(self, f: HistoryFilter) -> None:
        self._loads += 1
        self._load(f, self._loads)

    @work(thread=True, exclusive=True, group="smsh-search", exit_on_error=False)
    def _load(self, f: HistoryFilter, seq: int) -> None:
        session = self.session
        try:
            rows = session.sms.history(f, limit=PAGE)
            self.app.call_from_thread(self._show, seq, rows)  # the rows first, then the count
            total = session.sms.history_count(f)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._set_total, f, total)

    def _fetch(self, f: HistoryFilter) -> Fetch:
        session = self.session

        def fetch(after, limit):
            return session.sms.history(f, after=after, limit=limit)

        return fetch

    def _show(self, seq: int, rows: list[Message]) -> None:
        if seq != self._loads or self.filter is None:
            return  # a newer search is on its way
        self.query_one(SendTable).show_from_top(self._fetch(self.filter), rows)

    def _set_total(self, f: HistoryFilter | None, total: int) -> None:
        if f is None or f == self.filter:
            self._total = total
            self._status_line()

    @on(SendTable.PageShown)
    def _page_shown(self) -> None:
        self._status_line()
        self._current_changed()

    def _status_line(self) -> None:
        if self._error:
            return
        table = self.query_one(SendTable)
        if not table.row_count:
            self._say(t("smsh.empty") if self._total is not None else "…")
            return
        first = table.page_index * PAGE + 1
        last = first + table.row_count - 1
        total = "…" if self._total is None else f"{self._total:,}"
        self._say(t("smsh.status_line", first=f"{first:,}", last=f"{last:,}", total=total))

    def _say(self, text: str, error: bool = False) -> None:
        line = self.query_one("#smsh-status-line", Static)
        self._error = text if error else None
        line.set_class(error, "-error")
        line.update(Text(("⚠ " if error else "") + text))

    def reload(self) -> None:
        """The store changed (here or in another console): re-read the page and the recipients.

        A view that is not on screen only notes it, and catches up when it is shown again."""
        if self.filter is None or not self.is_mounted:
            return
        if not self.display:
            self._stale = True
            return
        self._stale = False
        table = self.query_one(SendTable)
        if table.fetch is None:  # the first page is still on its way, perhaps read before this change
            self._total = None
            self._search(self.filter)
            return
        table.refresh_page()
        self._count()

    def on_show(self) -> None:
        if self._stale:
            self.reload()
        self._tick()

    @work(thread=True, exclusive=True, group="smsh-count", exit_on_error=False)
    def _count(self) -> None:
        session, f = self.session, self.filter
        if f is None:
            return
        try:
            total = session.sms.history_count(f)
        except ContipleError:
            return
        self.app.call_from_thread(self._set_total, f, total)

    # -- the selected send and its recipients ---------------------------------------------------

    @property
    def current(self) -> Message | None:
        return self.query_one(SendTable).current

    @on(DataTable.RowHighlighted, "#smsh-sends")
    def _highlighted(self) -> None:
        self._current_changed()

    def _current_changed(self) -> None:
        msg = self.current
        self._update_head(msg)
        self.refresh_bindings()
        if self._recipients_timer is not None:
            self._recipients_timer.stop()
        self._recipients_asked += 1
        asked = self._recipients_asked
        self._recipients_timer = self.set_timer(0.1, lambda: self._load_recipients(msg, asked))

    def may_cancel(self, msg: Message | None) -> bool:
        return msg is not None and sms.may_cancel(self.session.user, msg, now=_now(self))

    def _update_head(self, msg: Message | None) -> None:
        title = self.query_one("#smsh-rcpt-title", Static)
        self.query_one("#smsh-cancel").display = self.may_cancel(msg)
        if msg is None:
            title.update(Text(t("smsh.no_send")))
            return
        extra: dict[str, str] = {}
        if msg.reserved_for is not None and msg.status is MessageStatus.RESERVED:
            key, extra = "smsh.recipients_reserved", {"at": short_time(msg.reserved_for, self.zone)}
        elif msg.status is MessageStatus.UNKNOWN:
            key = "sms.outcome.recipients_unknown"
        else:
            key = "smsh.recipients"
        head = t(key, id=msg.id, type=str(msg.send_type), count=f"{msg.recipient_count:,}", **extra)
        title.update(Text(head, no_wrap=True, overflow="ellipsis"))

    @work(thread=True, exclusive=True, group="smsh-recipients", exit_on_error=False)
    def _load_recipients(self, msg: Message | None, asked: int) -> None:
        rows = [] if msg is None else self.session.sms.recipients(msg.id, limit=RECIPIENTS_MAX)
        self.app.call_from_thread(self._show_recipients, msg, rows, asked)

    def _show_recipients(self, msg: Message | None, rows: list[Recipient], asked: int) -> None:
        if asked != self._recipients_asked:
            return  # the cursor moved on, or the send changed since
        self.query_one(RecipientTable).show(msg, rows)

    @on(DataTable.RowSelected, "#smsh-sends")
    def _send_chosen(self) -> None:
        self.query_one(RecipientTable).focus()  # Enter on a send: pick one of its recipients

    @on(DataTable.RowSelected, "#smsh-recipients")
    def _recipient_chosen(self) -> None:
        self.action_detail()

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reservation":
            tables = self.query(SendTable)
            return bool(tables) and self.may_cancel(
                tables.first().current
            )  # hidden from the footer when not possible
        return True

    def action_focus_search(self) -> None:
        self.query_one("#smsh-recipient", Input).focus()

    def action_detail(self) -> None:
        msg = self.current
        if msg is None:
            self.app.notify(t("smsh.no_send"), severity="warning")
            return
        table = self.query_one(RecipientTable)
        recipient = table.current if table.message is not None and table.message.id == msg.id else None
        self._open_detail(msg.id, recipient.id if recipient else None)

    @work(thread=True, exclusive=True, group="smsh-detail", exit_on_error=False)
    def _open_detail(self, message_id: int, recipient_id: int | None) -> None:
        session = self.session
        try:
            msg = session.sms.message(message_id)
        except ContipleError as exc:
            self.app.call_from_thread(self.app.notify, exc.message(), severity="error")
            return
        recipients = session.sms.recipients(msg.id, limit=RECIPIENTS_MAX)
        recipient = next(
            (r for r in recipients if r.id == recipient_id), recipients[0] if recipients else None
        )
        images = session.sms.images(msg.id)
        self.app.call_from_thread(self._push_detail, msg, recipient, images)

    def _push_detail(self, msg: Message, recipient: Recipient | None, images: list[MessageImage]) -> None:
        def closed(result: str | None) -> None:
            if result == "cancel":
                self._confirm_cancel(msg)

        self.app.push_screen(SmsDetailScreen(msg, recipient, images, self.zone, self.may_cancel(msg)), closed)

    @on(Button.Pressed, "#smsh-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_reservation()

    def action_cancel_reservation(self) -> None:
        msg = self.current
        if msg is None:
            return
        if not self.may_cancel(msg):
            self.app.notify(t("sms.err.not_cancellable"), severity="warning")
            return
        self._confirm_cancel(msg)

    def _confirm_cancel(self, msg: Message) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._say(t("smsh.cancel.running", id=msg.id))
                self._cancel(msg)

        self.app.push_screen(ConfirmCancelScreen(msg, self.zone), answered)

    @work(thread=True, group="smsh-cancel", exit_on_error=False)
    def _cancel(self, msg: Message) -> None:
        """Cancel at the gateway the send went through (network I/O: never on the UI thread), then here."""
        session = self.session
        try:
            gateway = gateway_by_name(self._sms_settings(), session.service, msg.gateway)
            try:
                count = session.sms.cancel_reservation(msg.id, gateway)
            finally:
                gateway.close()
        except ContipleError as exc:
            self.app.call_from_thread(self._cancel_failed, exc.message())
            return
        self.app.call_from_thread(self._cancelled, msg.id, count)

    def _cancelled(self, message_id: int, count: int) -> None:
        self._error = None
        self.app.notify(t("sms.cli.cancelled", id=message_id, count=count))
        self.reload()

    def _cancel_failed(self, reason: str) -> None:
        self._say(reason, error=True)
        self.app.notify(reason, severity="error")
        self.reload()

    def action_export(self) -> None:
        f = self.read_filter()
        if f is None:
            self.app.notify(self._error or t("err.date_range_reversed"), severity="error")
            return
        self.post_message(ExportRequested(self, "sms-history", f))

    # -- keeping statuses current -----------------------------------------------------------------

    def _tick(self) -> None:
        if self.display and not self._refreshing:  # one at a time: a slow gateway never piles them up
            self._refreshing = True
            self._refresh_statuses(False)

    def action_refresh_status(self) -> None:
        if not self._refreshing:
            self._refreshing = True
            self._refresh_statuses(True)

    @work(thread=True, group="smsh-refresh", exit_on_error=False)
    def _refresh_statuses(self, manual: bool) -> None:
        """Due sandbox reservations become sent; NHN Cloud is asked about open sends (network I/O)."""
        session, settings = self.session, self._sms_settings()
        try:
            changed = session.sms.refresh(lambda s, name: gateway_by_name(settings, s, name), now=_now(self))
        except ContipleError as exc:
            if manual:
                self.app.call_from_thread(
                    self.app.notify, t("smsh.refresh_failed", reason=exc.message()), severity="error"
                )
            return
        finally:
            self._refreshing = False
        if changed:
            self.app.call_from_thread(self.reload)
        if manual:
            self.app.call_from_thread(self.app.notify, t("smsh.refreshed"))


KEYMAP_CLASSES = (
    SmsHistoryView,
    SendTable,
    SmsDetailScreen,
    ConfirmCancelScreen,
)  # their bindings may be remapped
