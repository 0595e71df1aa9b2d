"""The sends of SMS history, a page at a time, and the recipients of one send (2-3 발송 내역)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message as TextualMessage
from textual.widgets import DataTable

from contiple_tui.domain.display import display_width, sms_result_text
from contiple_tui.domain.phone import format_phone
from contiple_tui.domain.sms_models import Message, MessageStatus, Recipient
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.notices import say_store_fault
from contiple_tui.widgets.safe import fit

PAGE = 100  # sends on screen at a time (keyset pages)
SHORT_TIME = "%m-%d %H:%M"
LONG_TIME = "%Y-%m-%d %H:%M:%S"

# fetch(after, limit) -> sends newest first after the keyset position (None: from the top)
Fetch = Callable[[tuple[int, int] | None, int], list[Message]]


def short_time(ts: int | None, zone: ZoneInfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, zone).strftime(SHORT_TIME)


def long_time(ts: int | None, zone: ZoneInfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, zone).strftime(LONG_TIME)


def recipients_text(msg: Message, width: int) -> str:
    """ "010-1234-5678 and 2 more" when it fits, "010-1234-5678 +2" when it does not."""
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
    least = {
        c.key: max(c.width, display_width(t(f"sms.col.{c.key}"))) for c in SEND_COLUMNS
    }  # the headers fit
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
            label = t(f"sms.col.{key}")
            # The number's header sits right, over its digits.
            self.add_column(Text(label, justify="right") if key == "id" else label, key=key, width=width)
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
                cells.append(fit(format_phone(msg.sender_no), width))
            elif key == "to":
                cells.append(fit(recipients_text(msg, width), width))
            elif key == "content":
                text = " ".join(clean(msg.title or msg.body, width * 4).split())
                cells.append(fit(text, width))
            elif key == "status":
                style = (
                    "bold"
                    if msg.status
                    in (
                        MessageStatus.FAILED,
                        MessageStatus.PARTIAL,
                        MessageStatus.RESERVED,
                        MessageStatus.UNKNOWN,
                    )
                    else ""
                )
                cells.append(Text(t(f"sms.status.{msg.status}"), style=style, no_wrap=True))
            elif key == "user":
                cells.append(fit(msg.user_name or "-", width))
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
            self.app.call_from_thread(say_store_fault, self.app, exc)
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
        unknown = self.message is not None and self.message.status is MessageStatus.UNKNOWN
        for r in self.recipients:
            style = "bold" if self.highlight and self.highlight in r.recipient_no else ""
            state = "unknown" if unknown and r.state == "pending" else r.state  # not "sending": not known
            cells: list[str | Text] = [
                fit(format_phone(r.recipient_no), 13, style=style),
                Text(
                    t(f"smsh.state.{state}"),
                    no_wrap=True,
                    style="bold" if state in ("failed", "unknown") else "",
                ),
            ]
            if with_code:
                cells.append(fit(r.result_code or "", 6))
            result = sms_result_text(r.result_code, r.result_message)
            if state == "unknown" and not result:
                result = t("sms.outcome.not_found_yet")
            cells.append(fit(result, self._layout[0]))
            self.add_row(*cells, key=str(r.id))

    @property
    def current(self) -> Recipient | None:
        if not self.row_count or not self.recipients:
            return None
        return self.recipients[min(self.cursor_row, len(self.recipients) - 1)]
