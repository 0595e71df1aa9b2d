"""2-3 발송 내역 (SMS history): sends with filters, a page at a time; the recipients of the selected
send with their results; one recipient's detail; cancel of a reservation not yet sent (at the gateway
too); Excel download of every matching recipient.

The core decides everything (scope, what may be cancelled); this module only shows it. Store reads
and every gateway call run in thread workers, never on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Select, Static

from contiple_tui.core import sms
from contiple_tui.core.phone import format_phone
from contiple_tui.core.sms_models import Message, MessageImage, MessageStatus, Recipient
from contiple_tui.errors import ContipleError
from contiple_tui.export.xlsx import display_width, sms_result_text
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.callback_list import parse_day
from contiple_tui.sms.factory import gateway_by_name, gateway_name
from contiple_tui.sms.rules import SendType
from contiple_tui.store.sms import HistoryFilter
from contiple_tui.widgets.bindings import Localized

PAGE = 100  # sends on screen at a time (keyset pages)
RECIPIENTS_MAX = 1000  # a send has at most 1,000 recipients: all of them fit the pane
DEFAULT_DAYS = 30
DEBOUNCE_S = 0.25
REFRESH_S = 10.0  # how often open sends are brought up to date while the view is shown
SHORT_TIME = "%m-%d %H:%M"
LONG_TIME = "%Y-%m-%d %H:%M:%S"

# fetch(after, limit) -> sends newest first after the keyset position (None: from the top)
Fetch = Callable[[tuple[int, int] | None, int], list[Message]]


def _now(view) -> float:
    """The app's clock (frozen in tests) as a timestamp."""
    clock = getattr(view.app, "clock", None)
    return clock().timestamp() if callable(clock) else datetime.now().timestamp()


def short_time(ts: int | None, zone: ZoneInfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, zone).strftime(SHORT_TIME)


def long_time(ts: int | None, zone: ZoneInfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, zone).strftime(LONG_TIME)


def recipients_text(msg: Message, width: int) -> str:
    """"010-1234-5678 and 2 more" when it fits, "010-1234-5678 +2" when it does not."""
    first = format_phone(msg.first_recipient)
    if msg.recipient_count <= 1:
        return first
    long = first + t("sms.more", count=msg.recipient_count - 1)
    return long if display_width(long) <= width else f"{first} +{msg.recipient_count - 1}"


# -- the sends --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendColumn:
    key: str
    width: int  # at least; "content" takes what is left
    priority: int  # 0: always shown; otherwise added while they fit, lowest first


SEND_COLUMNS: tuple[SendColumn, ...] = (
    SendColumn("id", 5, 5),
    SendColumn("created", 11, 0),
    SendColumn("reserved", 11, 1),
    SendColumn("type", 4, 0),
    SendColumn("sender", 13, 4),
    SendColumn("to", 17, 0),
    SendColumn("content", 12, 3),
    SendColumn("status", 8, 0),
    SendColumn("user", 8, 2),
)
CONTENT_MAX = 48


def choose_columns(width: int, with_user: bool = True) -> list[tuple[str, int]]:
    """The columns that fit ``width`` cells (each takes its width + 2 of padding), most useful first;
    what is left widens the recipients and then the content. ``with_user``: who sent it (admins see
    everyone's sends; an agent's are all their own)."""
    least = {c.key: max(c.width, display_width(t(f"sms.col.{c.key}"))) for c in SEND_COLUMNS}  # the headers fit
    least["status"] = max(least["status"], *(display_width(t(f"sms.status.{s}")) for s in MessageStatus))
    chosen = {c.key: least[c.key] for c in SEND_COLUMNS if c.priority == 0}
    used = sum(w + 2 for w in chosen.values())
    optional = [c for c in SEND_COLUMNS if c.priority and (with_user or c.key != "user")]
    for column in sorted(optional, key=lambda c: c.priority):
        if used + least[column.key] + 2 <= width:
            chosen[column.key] = least[column.key]
            used += least[column.key] + 2
    spare = width - used
    if spare > 0:
        wider = min(spare, 7)  # room for "and 12 more"
        chosen["to"] += wider
        spare -= wider
    if "content" in chosen and spare > 0:
        chosen["content"] = min(CONTENT_MAX, chosen["content"] + spare)
    return [(c.key, chosen[c.key]) for c in SEND_COLUMNS if c.key in chosen]


class SendTable(Localized, DataTable):
    """One page of sends, fetched a page at a time by keyset in a thread worker."""

    BINDINGS = [
        Binding("pagedown", "next_page", "key.next_page", show=False, id="sms_history.next_page"),
        Binding("pageup", "previous_page", "key.previous_page", show=False, id="sms_history.previous_page"),
    ]

    class PageShown(TextualMessage):
        def __init__(self, table: SendTable, first: int, rows: int) -> None:
            super().__init__()
            self.table = table
            self.first = first
            self.rows = rows

    def __init__(self, zone: ZoneInfo, with_user: bool = True, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.zone = zone
        self.with_user = with_user
        self.fetch: Fetch | None = None
        self._pages: list[tuple[int, int] | None] = []  # keyset starts of the pages shown so far
        self._page_rows: list[Message] = []
        self._generation = 0  # a new search makes pages still being fetched for the old one stale
        self._requests = 0  # the latest page asked for: older answers are dropped
        self._layout: list[tuple[str, int]] = []

    # -- columns -------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        layout = choose_columns(max(self.size.width - 2, 20), self.with_user)  # 2: the vertical scrollbar
        if layout == self._layout:
            return
        self._layout = layout
        cursor = self.cursor_row
        self.clear(columns=True)
        for key, width in layout:
            self.add_column(t(f"sms.col.{key}"), key=key, width=width)
        self._add_rows(self._page_rows)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    @property
    def column_keys(self) -> list[str]:
        return [key for key, _ in self._layout]

    def _cells(self, msg: Message) -> list[str | Text]:
        cells: list[str | Text] = []
        for key, width in self._layout:
            if key == "id":
                cells.append(Text(str(msg.id), justify="right"))
            elif key == "created":
                cells.append(short_time(msg.created_at, self.zone))
            elif key == "reserved":
                cells.append(short_time(msg.reserved_for, self.zone))
            elif key == "type":
                cells.append(str(msg.send_type))
            elif key == "sender":
                cells.append(format_phone(msg.sender_no))
            elif key == "to":
                cells.append(Text(recipients_text(msg, width), no_wrap=True, overflow="ellipsis"))
            elif key == "content":
                text = " ".join((msg.title or msg.body).split())
                cells.append(Text(text, no_wrap=True, overflow="ellipsis"))
            elif key == "status":
                style = "bold" if msg.status in (MessageStatus.FAILED, MessageStatus.PARTIAL,
                                                 MessageStatus.RESERVED) else ""
                cells.append(Text(t(f"sms.status.{msg.status}"), style=style, no_wrap=True))
            elif key == "user":
                cells.append(Text(msg.user_name or "-", no_wrap=True, overflow="ellipsis"))
        return cells

    # -- pages ---------------------------------------------------------------------------------

    def show_from_top(self, fetch: Fetch, rows: list[Message]) -> None:
        """A new search: ``rows`` is its first page (fetched by the caller, off the UI thread)."""
        self._generation += 1
        self.fetch = fetch
        self._pages = [None]
        self._show(rows)

    def _add_rows(self, rows: Sequence[Message]) -> None:
        for msg in rows:
            self.add_row(*self._cells(msg), key=str(msg.id))

    def _show(self, rows: list[Message], cursor_at_end: bool = False, keep: int | None = None) -> None:
        self._page_rows = rows
        self.clear()
        self._add_rows(rows)
        if rows:
            row = len(rows) - 1 if cursor_at_end else 0
            if keep is not None:
                row = min(keep, len(rows) - 1)
            self.move_cursor(row=row)
        self.post_message(self.PageShown(self, (len(self._pages) - 1) * PAGE + 1, len(rows)))

    def action_next_page(self) -> None:
        if self.cursor_row < self.row_count - 1 or self.fetch is None or len(self._page_rows) < PAGE:
            super().action_page_down()
            return
        last = self._page_rows[-1]
        self._request((last.created_at, last.id), "next")

    def action_previous_page(self) -> None:
        if self.cursor_row > 0 or self.fetch is None or len(self._pages) < 2:
            super().action_page_up()
            return
        self._request(self._pages[-2], "previous")

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row == self.row_count - 1:
            self.action_next_page()
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0 and len(self._pages) > 1:
            self.action_previous_page()
        else:
            super().action_cursor_up()

    def refresh_page(self) -> None:
        """Re-read the page on screen (after a change here or in another console)."""
        if self.fetch is not None:
            self._request(self._pages[-1], "same")

    def _request(self, after: tuple[int, int] | None, how: str) -> None:
        if self.fetch is None:
            return
        self._requests += 1
        self._load(self.fetch, (self._generation, self._requests), after, how)

    @work(thread=True, exclusive=True, group="smsh-page", exit_on_error=False)
    def _load(self, fetch: Fetch, token: tuple[int, int], after: tuple[int, int] | None, how: str) -> None:
        try:
            rows = fetch(after, PAGE)
        except ContipleError as exc:
            self.app.call_from_thread(self.app.notify, exc.message(), severity="error")
            return
        self.app.call_from_thread(self._loaded, token, after, how, rows)

    def _loaded(self, token: tuple[int, int], after, how: str, rows: list[Message]) -> None:
        if token != (self._generation, self._requests):
            return  # a newer search or page replaced this one while it was read
        if how == "next":
            if rows:
                self._pages.append(after)
                self._show(rows)
        elif how == "previous":
            self._pages.pop()
            self._show(rows, cursor_at_end=True)
        else:
            self._show(rows, keep=self.cursor_row)

    @property
    def sends(self) -> list[Message]:
        """The sends on screen, in order."""
        return list(self._page_rows)

    @property
    def current(self) -> Message | None:
        rows = self._page_rows  # the table's rows, in the same order
        return rows[self.cursor_row] if self.row_count and 0 <= self.cursor_row < len(rows) else None

    @property
    def page_index(self) -> int:
        return len(self._pages) - 1


# -- the recipients of one send ---------------------------------------------------------------------


class RecipientTable(Localized, DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.message: Message | None = None
        self.recipients: list[Recipient] = []
        self._layout: tuple[int, bool] | None = None
        self.highlight = ""  # recipient digits searched for: their rows in bold
        self._shown_highlight = ""

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        width = max(self.size.width - 2, 30)
        with_code = width >= 60
        message_width = width - (13 + 2) - (9 + 2) - ((6 + 2) if with_code else 0) - 2
        layout = (max(message_width, 8), with_code)
        if layout == self._layout:
            return
        self._layout = layout
        self.clear(columns=True)
        self.add_column(t("smsh.col.number"), key="number", width=13)
        self.add_column(t("smsh.col.state"), key="state", width=9)
        if with_code:
            self.add_column(t("smsh.col.code"), key="code", width=6)
        self.add_column(t("smsh.col.message"), key="message", width=layout[0])
        self._add_rows()

    def show(self, message: Message | None, recipients: list[Recipient]) -> None:
        same = self.message is not None and message is not None and self.message.id == message.id
        row = self.cursor_row if same and self._shown_highlight == self.highlight else None
        self._shown_highlight = self.highlight
        self.message = message
        self.recipients = recipients
        self.clear()
        self._add_rows()
        if not self.row_count:
            return
        if row is None and self.highlight:
            row = next((i for i, r in enumerate(recipients) if self.highlight in r.recipient_no), 0)
        self.move_cursor(row=min(row or 0, self.row_count - 1))

    def _add_rows(self) -> None:
        if self._layout is None:
            return
        with_code = self._layout[1]
        for r in self.recipients:
            style = "bold" if self.highlight and self.highlight in r.recipient_no else ""
            cells: list[str | Text] = [Text(format_phone(r.recipient_no), style=style),
                                       Text(t(f"smsh.state.{r.state}"), no_wrap=True,
                                            style="bold" if r.state == "failed" else "")]
            if with_code:
                cells.append(r.result_code or "")
            cells.append(Text(sms_result_text(r.result_code, r.result_message), no_wrap=True, overflow="ellipsis"))
            self.add_row(*cells, key=str(r.id))

    @property
    def current(self) -> Recipient | None:
        if not self.row_count or not self.recipients:
            return None
        return self.recipients[min(self.cursor_row, len(self.recipients) - 1)]


# -- the view ---------------------------------------------------------------------------------------


class SmsHistoryView(MenuView):
    FOCUS = "SendTable"
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
            yield Input(str(today - timedelta(days=DEFAULT_DAYS - 1)), placeholder="YYYY-MM-DD", id="smsh-from",
                        compact=True, max_length=10, restrict=r"[0-9-]*", tooltip=t("smsh.filter.from"))
            yield Input(str(today), placeholder="YYYY-MM-DD", id="smsh-to", compact=True, max_length=10,
                        restrict=r"[0-9-]*", tooltip=t("smsh.filter.to"))
            yield Select([(str(s), s) for s in SendType], prompt=t("smsh.filter.type"), id="smsh-type", compact=True)
            yield Select([(t(f"sms.status.{s}"), s) for s in MessageStatus], prompt=t("smsh.filter.status"),
                         id="smsh-status", compact=True)
        with Horizontal(classes="smsh-filters"):
            yield Input(placeholder=t("smsh.filter.recipient"), id="smsh-recipient", compact=True,
                        restrict=r"[0-9]*", max_length=13, tooltip=t("smsh.filter.recipient"))
            yield Input(placeholder=t("smsh.filter.sender"), id="smsh-sender", compact=True, restrict=r"[0-9]*",
                        max_length=13, tooltip=t("smsh.filter.sender"))
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
        config = getattr(self.app, "config", None)
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
                session.user, session.service,
                start=None if first is None else int(datetime.combine(first, time.min, self.zone).timestamp()),
                end=None if last is None else int(datetime.combine(last + timedelta(days=1), time.min,
                                                                   self.zone).timestamp()),
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
            rows = sms.history(session.store, session.user, session.service, f, limit=PAGE)
            self.app.call_from_thread(self._show, seq, rows)  # the rows first, then the count
            total = sms.history_count(session.store, session.user, session.service, f)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._set_total, f, total)

    def _fetch(self, f: HistoryFilter) -> Fetch:
        session = self.session

        def fetch(after, limit):
            return sms.history(session.store, session.user, session.service, f, after=after, limit=limit)

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
            total = sms.history_count(session.store, session.user, session.service, f)
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
        if msg is None:
            title.update(Text(t("smsh.no_send")))
        elif msg.reserved_for is not None and msg.status is MessageStatus.RESERVED:
            title.update(Text(t("smsh.recipients_reserved", id=msg.id, type=str(msg.send_type),
                                count=f"{msg.recipient_count:,}", at=short_time(msg.reserved_for, self.zone)),
                              no_wrap=True, overflow="ellipsis"))
        else:
            title.update(Text(t("smsh.recipients", id=msg.id, type=str(msg.send_type),
                                count=f"{msg.recipient_count:,}"), no_wrap=True, overflow="ellipsis"))
        self.query_one("#smsh-cancel").display = self.may_cancel(msg)

    @work(thread=True, exclusive=True, group="smsh-recipients", exit_on_error=False)
    def _load_recipients(self, msg: Message | None, asked: int) -> None:
        rows = [] if msg is None else self.session.store.sms.recipients(msg.id, limit=RECIPIENTS_MAX)
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
            return bool(tables) and self.may_cancel(tables.first().current)  # hidden from the footer when not possible
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
            msg = sms.message(session.store, session.user, session.service, message_id)
        except ContipleError as exc:
            self.app.call_from_thread(self.app.notify, exc.message(), severity="error")
            return
        recipients = session.store.sms.recipients(msg.id, limit=RECIPIENTS_MAX)
        recipient = next((r for r in recipients if r.id == recipient_id), recipients[0] if recipients else None)
        images = session.store.sms.images(msg.id)
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
            gateway = gateway_by_name(self.app.config.sms, session.service, msg.gateway)
            try:
                count = sms.cancel_reservation(session.store, session.user, session.service, msg.id, gateway)
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
        exporter = getattr(self.app, "export_sms_history", None)
        if exporter is not None:
            exporter(f)

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
        session, config = self.session, self.app.config
        try:
            changed = sms.refresh(session.store, lambda s, name: gateway_by_name(config.sms, s, name),
                                  [session.service], now=_now(self))
        except ContipleError as exc:
            if manual:
                self.app.call_from_thread(self.app.notify, t("smsh.refresh_failed", reason=exc.message()),
                                          severity="error")
            return
        finally:
            self._refreshing = False
        if changed:
            self.app.call_from_thread(self.reload)
        if manual:
            self.app.call_from_thread(self.app.notify, t("smsh.refreshed"))


# -- dialogs ----------------------------------------------------------------------------------------


def detail_rows(msg: Message, recipient: Recipient | None, images: Sequence[MessageImage],
                zone: ZoneInfo) -> list[tuple[str, str]]:
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
    rows += [
        (t("smsh.detail.status"), t(f"sms.status.{msg.status}")),
        (t("smsh.detail.recipients"), f"{msg.recipient_count:,}"),
    ]
    if msg.title:
        rows.append((t("smsh.detail.title_field"), msg.title))
    rows.append((t("smsh.detail.body"), msg.body))
    if images:
        shown = "\n".join(t("smsh.detail.image", name=i.file_name, size=f"{len(i.data) / 1024:,.1f}", width=i.width,
                            height=i.height) for i in images)
    else:
        shown = t("smsh.detail.no_images")
    rows.append((t("smsh.detail.images"), shown))
    if recipient is not None:
        result = t(f"smsh.state.{recipient.state}")
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
        (t("smsh.detail.gateway"), t(f"smsh.gateway.{msg.gateway}") if msg.gateway in ("sandbox", "nhn")
         else msg.gateway),
    ]
    return rows


class SmsDetailScreen(Localized, ModalScreen[str | None]):
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

    def __init__(self, msg: Message, recipient: Recipient | None, images: Sequence[MessageImage], zone: ZoneInfo,
                 may_cancel: bool) -> None:
        super().__init__()
        self.msg = msg
        self.recipient = recipient
        self.images = list(images)
        self.zone = zone
        self.may_cancel = may_cancel

    def compose(self) -> ComposeResult:
        msg = self.msg
        number = format_phone(self.recipient.recipient_no) if self.recipient else format_phone(msg.first_recipient)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in detail_rows(msg, self.recipient, self.images, self.zone):
            grid.add_row(label, Text(value))
        with Vertical(id="smsh-detail-dialog"):
            yield Static(Text(t("smsh.detail.title", id=msg.id, number=number)), id="smsh-detail-title")
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


class ConfirmCancelScreen(Localized, ModalScreen[bool]):
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
        text = t("smsh.cancel.question", id=msg.id, at=long_time(msg.reserved_for, self.zone)[:16],
                 count=f"{msg.recipient_count:,}")
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


KEYMAP_CLASSES = (SmsHistoryView, SendTable, SmsDetailScreen, ConfirmCancelScreen)  # their bindings may be remapped
