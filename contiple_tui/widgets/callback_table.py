"""A callback table that holds one page of rows, fetched from SQLite a page at a time.

A million callbacks never enter memory: the table shows PAGE rows, and moving past the last (or first)
row fetches the next (or previous) page by keyset. Selection is kept by callback id across pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from contiple_tui.core.callbacks import Callback
from contiple_tui.core.models import CallbackStatus, Service
from contiple_tui.core.phone import format_phone
from contiple_tui.i18n import t
from contiple_tui.widgets.bindings import Localized

PAGE = 100

# fetch(after, limit) -> rows newest first after the keyset position (None: from the top)
Fetch = Callable[[tuple[int, int] | None, int], list[Callback]]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    render: Callable[[Callback], str | Text]


def callback_columns(service: Service, names: dict[int, str], keys: Sequence[str]) -> list[Column]:
    """The columns the callback screens share, picked by key, in the order given."""
    zone = ZoneInfo(service.timezone)
    routes = {r.code: r.name for r in service.ivr_routes}

    def when(c: Callback) -> str:
        return datetime.fromtimestamp(c.requested_at, zone).strftime("%m-%d %H:%M")

    def phone(c: Callback) -> Text:
        text = format_phone(c.customer_phone)
        return Text(f"⚠{text}", style="bold") if not c.phone_valid else Text(text)  # kept, and flagged

    def status(c: Callback) -> Text:
        label = t(f"status.{c.status}")
        if c.dialing_since:
            label = f"☎ {label}"
        return Text(label, style="bold" if c.status is CallbackStatus.UNASSIGNED else "")

    every = {
        "requested": Column("requested", t("cb.col.requested"), 11, when),
        "phone": Column("phone", t("cb.col.phone"), 13, phone),
        "name": Column("name", t("cb.col.name"), 6, lambda c: Text(c.customer_name or "-", no_wrap=True)),
        "ivr": Column("ivr", t("cb.col.ivr"), 8, lambda c: Text(f"{c.ivr_route or '-'} {routes.get(c.ivr_route, '')}",
                                                              no_wrap=True, overflow="ellipsis")),
        "status": Column("status", t("cb.col.status"), 8, status),
        "assignee": Column("assignee", t("cb.col.assignee"), 6,
                           lambda c: Text(names.get(c.assignee_id, "-"), no_wrap=True)),
        "attempts": Column("attempts", t("cb.col.attempts"), 4, lambda c: Text(str(c.attempts), justify="right")),
        "requests": Column("requests", t("cb.col.requests"), 4,
                           lambda c: Text(f"×{c.request_count}" if c.request_count > 1 else "", justify="right")),
    }
    return [every[key] for key in keys]


class CallbackTable(Localized, DataTable):
    BINDINGS = [
        Binding("space", "toggle_select", "key.select", id="callbacks.select"),
        Binding("ctrl+a", "select_page", "key.select_page", id="callbacks.select_page"),
        Binding("pagedown", "next_page", "key.next_page", show=False, id="callbacks.next_page"),
        Binding("pageup", "previous_page", "key.previous_page", show=False, id="callbacks.previous_page"),
    ]

    class PageShown(Message):
        """A page is on screen: ``first`` is its 1-based position in the result."""

        def __init__(self, table: CallbackTable, first: int, rows: int) -> None:
            super().__init__()
            self.table = table
            self.first = first
            self.rows = rows

    class SelectionChanged(Message):
        def __init__(self, table: CallbackTable) -> None:
            super().__init__()
            self.table = table

    def __init__(self, columns: Sequence[Column], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.columns_spec = list(columns)
        self.selected: set[int] = set()
        self.fetch: Fetch | None = None
        self.rows_by_key: dict[str, Callback] = {}
        self._pages: list[tuple[int, int] | None] = []  # keyset starts of the pages shown so far
        self._page_rows: list[Callback] = []

    def on_mount(self) -> None:
        self.add_column(" ", key="sel", width=1)
        for column in self.columns_spec:
            self.add_column(column.label, key=column.key, width=column.width)

    # -- pages ---------------------------------------------------------------------------------

    def show_from_top(self, fetch: Fetch, rows: list[Callback]) -> None:
        """A new search: ``rows`` is its first page (fetched by the caller, off the UI thread)."""
        self.fetch = fetch
        self._pages = [None]
        self._show(rows)

    def _show(self, rows: list[Callback], cursor_at_end: bool = False) -> None:
        self._page_rows = rows
        self.clear()
        self.rows_by_key = {}
        for callback in rows:
            key = str(callback.id)
            self.rows_by_key[key] = callback
            self.add_row(*self._cells(callback), key=key)
        if rows:
            self.move_cursor(row=len(rows) - 1 if cursor_at_end else 0)
        self.post_message(self.PageShown(self, (len(self._pages) - 1) * PAGE + 1, len(rows)))

    def _cells(self, callback: Callback) -> list[str | Text]:
        mark = Text("✔", style="bold") if callback.id in self.selected else Text(" ")
        return [mark] + [column.render(callback) for column in self.columns_spec]

    def action_next_page(self) -> None:
        if self.cursor_row < self.row_count - 1 or self.fetch is None or len(self._page_rows) < PAGE:
            super().action_page_down()
            return
        last = self._page_rows[-1]
        after = (last.requested_at, last.id)
        rows = self.fetch(after, PAGE)
        if rows:
            self._pages.append(after)
            self._show(rows)

    def action_previous_page(self) -> None:
        if self.cursor_row > 0 or self.fetch is None or len(self._pages) < 2:
            super().action_page_up()
            return
        self._pages.pop()
        self._show(self.fetch(self._pages[-1], PAGE), cursor_at_end=True)

    def action_cursor_down(self) -> None:
        if self.cursor_row == self.row_count - 1:
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
        if self.fetch is None:
            return
        row = self.cursor_row
        self._show(self.fetch(self._pages[-1], PAGE))
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1))

    # -- selection -----------------------------------------------------------------------------

    @property
    def current(self) -> Callback | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return self.rows_by_key.get(key)

    def chosen(self) -> list[Callback]:
        """The selected callbacks on this page, or the one under the cursor when none is selected."""
        picked = [c for c in self._page_rows if c.id in self.selected]
        if picked:
            return picked
        return [self.current] if self.current else []

    def chosen_ids(self) -> list[int]:
        """Every selected id (across pages, in the order shown), or the cursor's."""
        if self.selected:
            shown = [c.id for c in self._page_rows if c.id in self.selected]
            return shown + sorted(self.selected - set(shown))
        return [self.current.id] if self.current else []

    def action_toggle_select(self) -> None:
        callback = self.current
        if callback is None:
            return
        self.selected.symmetric_difference_update({callback.id})
        self.update_cell(str(callback.id), "sel", self._cells(callback)[0])
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)
        self.post_message(self.SelectionChanged(self))

    def action_select_page(self) -> None:
        ids = {c.id for c in self._page_rows}
        if ids <= self.selected:
            self.selected -= ids
        else:
            self.selected |= ids
        for callback in self._page_rows:
            self.update_cell(str(callback.id), "sel", self._cells(callback)[0])
        self.post_message(self.SelectionChanged(self))

    def clear_selection(self) -> None:
        self.selected.clear()
        for callback in self._page_rows:
            self.update_cell(str(callback.id), "sel", Text(" "))
        self.post_message(self.SelectionChanged(self))
