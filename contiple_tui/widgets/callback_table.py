"""A callback table that holds one page of rows, fetched from SQLite a page at a time.

A million callbacks never enter memory: the table shows PAGE rows, and moving past the last (or first)
row fetches the next (or previous) page by keyset. Selection is kept by callback id across pages.

The table draws its own lines (the Toolong model: a ScrollView whose render_line builds a Strip from
each visible row's cells) and looks like the DataTable it replaces: same header, zebra stripes, row
cursor, colours and keys. A DataTable renders every visible cell through Rich's padding and styling
pipeline again after any change, and re-measures and re-lays out on clear() + add_row(): a new page
cost 50-120 ms between key and screen. Here a new page is a list swap, and a line is its cells' text
cut to the column width and joined: a few milliseconds for a screenful.

Paging never waits for SQL when it can help it: once the cursor is in the second half of a page (or the
first half of a page after the first), a thread reads the next page ahead (or the one before, unless it
is the page just left, which is kept) and also cuts the cells and builds the lines of its first
screenful, so PageDown at the last row swaps in rows already in memory and draws lines already built.
A console left at the top of its list reads nothing ahead when the data changes. A page not read ahead yet (a
key faster than the read) is read at once, as
before. A new search or a change of the data drops what was read ahead. Re-reading the page on screen
(another console changed callbacks) happens in a thread too, and redraws only the rows that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from contiple_tui.core.callbacks import Callback
from contiple_tui.domain.models import CallbackStatus, Service
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.notices import say_store_fault
from contiple_tui.widgets.safe import plain

PAGE = 100
# A neighbouring page is read ahead once the cursor is this near the page's end (or start): PageDown from
# there needs it soon, and a console nobody pages through reads nothing ahead on every change of data.
AHEAD_ZONE = PAGE // 2
_NONE = object()  # "no such page" (None is a page start: the top)

# fetch(after, limit) -> rows newest first after the keyset position (None: from the top)
Fetch = Callable[[tuple[int, int] | None, int], list[Callback]]
Start = tuple[int, int] | None  # where a page starts: after this keyset position (None: the top)
LineKey = tuple[int, bool, bool]  # (row index or -1 for the header, under the cursor, under the mouse)


@dataclass(frozen=True)
class _Drawn:
    """A page's cut cells and built lines, made for one ``CallbackTable._stamp()`` and selection."""

    stamp: tuple[int, int, int]
    marks: int
    cells: dict[int, list[list[Segment]]]
    strips: dict[LineKey, Strip]


@dataclass(frozen=True)
class Column:
    """A column of the table. Its width is fitted to the table's (``fit_columns``): ``ideal`` shows every
    value whole, ``width`` is the least it is cut to; at narrow widths a column with ``drop`` > 0 is
    dropped (the highest first). ``short`` is the header and ``compact`` the cells when the whole ones do
    not fit."""

    key: str
    label: str
    width: int
    render: Callable[[Callback], str | Text]
    ideal: int = 0
    drop: int = 0
    grow: int = 0  # how many cells of width to spare it takes before the others share the rest
    cut: int = 0  # when the ideal widths do not fit, columns are cut toward ``width``, the highest first
    short: str = ""
    compact: Callable[[Callback], str | Text] | None = None  # a cell too wide for the column, shorter
    terms: tuple[tuple[str, str], ...] = ()  # (shortened, whole) words ``compact`` writes (F1 explains them)


SPREAD = 4  # the most cells of spare width a column takes when the growing ones have theirs


def fit_columns(columns: Sequence[Column], available: int) -> list[int]:
    """Each column's width for a table ``available`` cells wide (0: dropped). A cell is padded by one
    space either side. Columns get their ideal width when it fits; the growing ones then share what is
    left, and every column a little more. Else the widest are cut toward their least width, and when
    even that does not fit, columns are dropped by their ``drop`` priority; when nothing more may be
    dropped the table scrolls sideways."""
    ideal = [max(c.ideal or c.width, c.width, cell_len(c.label)) for c in columns]
    least = [max(c.width, cell_len(c.short or c.label)) for c in columns]
    shown = [True] * len(columns)

    def need(widths: list[int]) -> int:
        return sum(w + 2 for w, keep in zip(widths, shown) if keep)

    while True:
        if need(ideal) <= available:
            widths = list(ideal)
            spare = available - need(widths)
            for i, column in enumerate(columns):
                if shown[i] and column.grow and spare > 0:
                    extra = min(column.grow, spare)
                    widths[i] += extra
                    spare -= extra
            count = sum(shown)
            if count and spare > 0:
                each = min(SPREAD, spare // count)
                widths = [w + each for w in widths]
            return [w if keep else 0 for w, keep in zip(widths, shown)]
        if need(least) <= available:
            widths = list(ideal)
            while need(widths) > available:  # one cell at a time, the highest ``cut`` first
                i = max(
                    (i for i in range(len(columns)) if shown[i] and widths[i] > least[i]),
                    key=lambda i: (columns[i].cut, widths[i] - least[i]),
                )
                widths[i] -= 1
            return [w if keep else 0 for w, keep in zip(widths, shown)]
        droppable = [i for i, c in enumerate(columns) if shown[i] and c.drop > 0]
        if not droppable:
            return [w if keep else 0 for w, keep in zip(least, shown)]
        shown[max(droppable, key=lambda i: columns[i].drop)] = False


# The order in which columns give way at narrow widths (the highest first; the request time, the phone
# number and the status never do): stated in F1's cheat sheet of the callback screens.
DROP_ORDER = {"ivr": 5, "requests": 4, "name": 3, "assignee": 2, "attempts": 1}
# The order in which they are cut before that: the customer's name, the phone's spare cell, short headers,
# then the IVR and the status words.
CUT_ORDER = {"name": 6, "phone": 5, "attempts": 4, "requests": 4, "assignee": 4, "ivr": 2, "status": 1}


def callback_columns(
    service: Service, names: dict[int, str], keys: Sequence[str], drop_first: str | None = None
) -> list[Column]:
    """The columns the callback screens share, picked by key, in the order given. ``drop_first`` names a
    column that gives way before the others (an agent's own name in the assignee column)."""
    zone = ZoneInfo(service.timezone)
    routes = {r.code: r.name for r in service.ivr_routes}
    statuses = list(CallbackStatus)
    status_ideal = max(cell_len(t(f"status.{s}")) for s in statuses)  # "☎ " while dialing: the short word
    route_ideal = max([cell_len(clean(f"{code} {name}", 80)) for code, name in routes.items()] or [8])
    name_ideal = max([cell_len(clean(n, 80)) for n in names.values()] or [6])

    def when(c: Callback) -> str:
        return datetime.fromtimestamp(c.requested_at, zone).strftime("%m-%d %H:%M")

    def phone(c: Callback) -> Text:
        text = clean(format_phone(c.customer_phone), 40)
        return Text(f"⚠{text}", style="bold") if not c.phone_valid else Text(text)  # kept, and flagged

    def status(c: Callback, short: bool = False) -> Text:
        label = t(f"status.short.{c.status}" if short else f"status.{c.status}")
        if c.dialing_since:
            label = f"☎ {label}"
        return Text(label, style="bold" if c.status is CallbackStatus.UNASSIGNED else "")

    status_short = max(cell_len(t(f"status.short.{s}")) for s in statuses) + 2
    every = {
        "requested": Column("requested", t("cb.col.requested"), 11, when),
        "phone": Column("phone", t("cb.col.phone"), 13, phone, ideal=14),
        "name": Column(
            "name",
            t("cb.col.name"),
            6,
            lambda c: plain(c.customer_name or "-", max_chars=80, no_wrap=True, overflow="ellipsis"),
            ideal=10,
            grow=6,
        ),
        "ivr": Column(
            "ivr",
            t("cb.col.ivr"),
            8,
            lambda c: plain(
                f"{c.ivr_route or '-'} {routes.get(c.ivr_route, '')}",
                max_chars=80,
                no_wrap=True,
                overflow="ellipsis",
            ),
            ideal=route_ideal,
            grow=4,
        ),
        "status": Column(
            "status",
            t("cb.col.status"),
            status_short,
            status,
            ideal=status_ideal,
            compact=partial(status, short=True),
            grow=2,  # room for "☎ " when there is some
            terms=tuple((t(f"status.short.{s}"), t(f"status.{s}")) for s in statuses),
        ),
        "assignee": Column(
            "assignee",
            t("cb.col.assignee"),
            6,
            lambda c: plain(names.get(c.assignee_id, "-"), max_chars=80, no_wrap=True, overflow="ellipsis"),
            ideal=name_ideal,
            short=t("cb.col.assignee.short"),
        ),
        "attempts": Column(
            "attempts",
            t("cb.col.attempts"),
            3,
            lambda c: Text(str(c.attempts), justify="right"),
            short=t("cb.col.attempts.short"),
        ),
        "requests": Column(
            "requests",
            t("cb.col.requests"),
            3,
            lambda c: Text(f"×{c.request_count}" if c.request_count > 1 else "", justify="right"),
            short=t("cb.col.requests.short"),
        ),
    }
    columns = [every[key] for key in keys]
    top = max(DROP_ORDER.values()) + 1
    return [
        replace(c, drop=top if c.key == drop_first else DROP_ORDER.get(c.key, 0), cut=CUT_ORDER.get(c.key, 0))
        for c in columns
    ]


def column_notes(columns: Sequence[Column]) -> list[str]:
    """F1's lines about the columns: the order they give way in, and what their short forms stand for."""
    notes = []
    dropping = sorted((c for c in columns if c.drop), key=lambda c: -c.drop)
    if dropping:
        notes.append(t("help.columns.order", order=" → ".join(c.label for c in dropping)))
    terms = [(c.short, c.label) for c in columns if c.short and c.short != c.label]
    terms += [term for c in columns for term in c.terms if term[0] != term[1]]
    if terms:
        notes.append(t("help.columns.short", pairs=", ".join(f"{short} = {whole}" for short, whole in terms)))
    return notes


class CallbackTable(Localized, ScrollView, can_focus=True, inherit_bindings=False):
    """One page of callbacks under a header; the row cursor pages on at the page's ends."""

    COMPONENT_CLASSES = {
        "callback-table--header",
        "callback-table--even-row",
        "callback-table--odd-row",
        "callback-table--cursor",
        "callback-table--hover",
    }
    # DataTable's look (textual 8.2, DataTable.DEFAULT_CSS), for the parts this table has.
    DEFAULT_CSS = """
    CallbackTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .callback-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .callback-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark {
            & > .callback-table--even-row {
                background: $surface-darken-1 40%;
            }
        }
        & > .callback-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .callback-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .callback-table--odd-row {
        }
        & > .callback-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .callback-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .callback-table--hover {
            background: $block-hover-background;
        }
    }
    """
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("ctrl+home", "first_row", "First", show=False),
        Binding("ctrl+end", "last_row", "Last", show=False),
        Binding("home", "leftmost", "Scroll Left", show=False),
        Binding("end", "rightmost", "Scroll Right", show=False),
        Binding("left", "scroll_left", "Scroll Left", show=False),
        Binding("right", "scroll_right", "Scroll Right", show=False),
        Binding("space", "toggle_select", "key.select", id="callbacks.select"),
        Binding("ctrl+a", "select_page", "key.select_page", id="callbacks.select_page"),
        Binding("pagedown", "next_page", "key.next_page", show=False, id="callbacks.next_page"),
        Binding("pageup", "previous_page", "key.previous_page", show=False, id="callbacks.previous_page"),
    ]

    class PageShown(Message):
        """A page is on screen: ``first`` is its 1-based position in the result, ``rows`` its length.
        Only the latest counts: one still waiting is replaced by a newer one (a held Page Down)."""

        def __init__(self, table: CallbackTable, first: int, rows: int) -> None:
            super().__init__()
            self.table = table
            self.first = first
            self.rows = rows

        @property
        def control(self) -> CallbackTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CallbackTable.PageShown) and message.table is self.table

    class SelectionChanged(Message):
        """The selection of ``table`` changed (read it from ``table.selected``); replaces one waiting."""

        def __init__(self, table: CallbackTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> CallbackTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CallbackTable.SelectionChanged) and message.table is self.table

    def __init__(self, columns: Sequence[Column], **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns_spec = list(columns)
        self.selected: set[int] = set()
        self.fetch: Fetch | None = None
        self.rows_by_key: dict[str, Callback] = {}  # str(callback id) -> callback, of the page shown
        # Called at once when the page or the selection changed (PageShown and SelectionChanged follow as
        # messages): a status line drawn from the table then reaches the screen in the same update as the
        # rows, not one frame later.
        self.changed_hook: Callable[[], None] | None = None
        self.cursor_row = 0
        self.hover_row: int | None = None  # the row under the mouse pointer, shown faintly (as DataTable)
        self.header_height = 1
        self._pages: list[Start] = []  # keyset starts of the pages shown so far
        self._page_rows: list[Callback] = []
        # Pages read ahead (by a thread) or just left, by their start, each stamped with the generation of
        # the data it was read in: a new search or a change of the data moves the generation on, and an
        # older page is then never shown.
        self._ahead: dict[Start, tuple[int, list[Callback], _Drawn | None]] = {}
        self._generation = 0
        self._reading: tuple[int, tuple[Start, ...]] | None = None  # (generation, starts) being read ahead
        self._fitted_to = -1  # the width the columns were fitted to (fit_columns)
        self._shown: list[tuple[Column, int]] = []  # the columns shown, with their widths
        self._widths: list[int] = []
        self.table_width = 0
        self._fit(sum(column.width + 2 for column in self.columns_spec) + 3)
        self._cells_cache: dict[int, list[list[Segment]]] = {}  # row index -> its cells, cut to their widths
        self._strips: dict[LineKey, Strip] = {}  # the lines drawn, as made for _strips_stamp
        self._strips_stamp: tuple[int, int, int] | None = None
        self._drawing = 0  # moves on when the styles or what the cells show changed: drawn lines are stale
        self._marks = 0  # moves on with every change of the selection (the cells hold its marks)
        self._styles: dict[str, Style] | None = None
        self._pending: list[Callback] | None = None  # a first page given before the mount
        self.virtual_size = Size(self.table_width, self.header_height)

    # -- what DataTable offered and the screens and tests use ------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._page_rows)

    def get_row_at(self, index: int) -> list[str | Text]:
        """The cells of a row, as shown (selection mark first)."""
        return self._cells(self._page_rows[index])

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        if row is None or not self._page_rows:
            return
        previous, self.cursor_row = self.cursor_row, max(0, min(row, len(self._page_rows) - 1))
        self._refresh_rows(previous, self.cursor_row)
        if scroll:
            self._scroll_to_cursor(animate)
        self._read_around()  # the cursor may have come near the page's end

    # -- pages ---------------------------------------------------------------------------------

    def show_from_top(self, fetch: Fetch, rows: list[Callback]) -> None:
        """A new search: ``rows`` is its first page (fetched by the caller, off the UI thread).

        Before the table is mounted (a search started while its screen is composed), the page waits for
        the mount."""
        self.fetch = fetch
        self._pages = [None]
        self._forget_ahead()
        if not self.is_mounted:
            self._pending = rows
            return
        self._show(rows)

    def _on_mount(self, event: events.Mount) -> None:
        if self._pending is not None:
            rows, self._pending = self._pending, None
            self._show(rows)

    def _show(self, rows: list[Callback], cursor_at_end: bool = False, drawn: _Drawn | None = None) -> None:
        resized = len(rows) != len(self._page_rows)
        self._page_rows = rows
        self.rows_by_key = {str(callback.id): callback for callback in rows}
        self._install(drawn)
        self.cursor_row = len(rows) - 1 if rows and cursor_at_end else 0
        if resized:
            self.virtual_size = Size(self.table_width, self.header_height + len(rows))
        self._scroll_to_cursor(False)
        self.refresh(layout=resized)
        self._changed()
        self.post_message(self.PageShown(self, (len(self._pages) - 1) * PAGE + 1, len(rows)))
        # After this frame is drawn (the key's answer comes first), read the neighbouring pages.
        self.call_after_refresh(self._read_around)

    def _changed(self) -> None:
        if self.changed_hook is not None:
            self.changed_hook()

    def row_of(self, callback_id: int) -> int | None:
        """The row index of a callback on the page shown, or None."""
        for index, callback in enumerate(self._page_rows):
            if callback.id == callback_id:
                return index
        return None

    def _selection_cell(self, callback: Callback) -> Text:
        return Text("✔", style="bold") if callback.id in self.selected else Text(" ")

    def _cells(self, callback: Callback) -> list[str | Text]:
        cells: list[str | Text] = [self._selection_cell(callback)]
        for column, width in self._shown:
            cell = column.render(callback)
            if column.compact is not None and cell_len(cell if isinstance(cell, str) else cell.plain) > width:
                cell = column.compact(callback)
            cells.append(cell)
        return cells

    def help_notes(self) -> list[str]:
        return column_notes(self.columns_spec)

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns shown at the table's width."""
        return [column.key for column, _ in self._shown]

    def _fit(self, available: int) -> bool:
        """Fit the columns to ``available`` cells (the selection mark takes 3); True if they changed."""
        if available == self._fitted_to:
            return False
        self._fitted_to = available
        widths = fit_columns(self.columns_spec, max(0, available - 3))
        shown = [(column, width) for column, width in zip(self.columns_spec, widths) if width]
        if shown == self._shown:
            return False
        self._shown = shown
        self._widths = [1] + [width for _, width in shown]  # the selection mark first
        self.table_width = sum(width + 2 for width in self._widths)  # a space either side of every cell
        return True

    def _on_resize(self, event: events.Resize) -> None:
        # The vertical scrollbar's room is kept whether or not it shows: a page taller than the view
        # shows it, and its coming and going must not refit the columns.
        if self._fit(self.size.width - self.styles.scrollbar_size_vertical):
            self._drawing += 1
            self._cells_cache = {}
            self.virtual_size = Size(self.table_width, self.header_height + len(self._page_rows))
            self.refresh()

    def action_next_page(self) -> None:
        self._set_hover(None)
        after = self._next_start()
        if self.cursor_row < self.row_count - 1 or after is _NONE:
            self._move_by_screen(+1)
            return
        rows, drawn = self._page_at(after)
        if rows:
            self._keep(self._pages[-1])  # the page left: PageUp needs no SQL
            self._pages.append(after)
            self._show(rows, drawn=drawn)

    def action_previous_page(self) -> None:
        self._set_hover(None)
        if self.cursor_row > 0 or self.fetch is None or len(self._pages) < 2:
            self._move_by_screen(-1)
            return
        rows, drawn = self._page_at(self._pages[-2])
        if rows is None:
            return
        self._keep(self._pages.pop())  # the page left is the next one again
        self._show(rows, cursor_at_end=True, drawn=drawn)

    def action_cursor_down(self) -> None:
        self._set_hover(None)
        if self.cursor_row == self.row_count - 1:
            self.action_next_page()
        else:
            self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._set_hover(None)
        if self.cursor_row == 0 and len(self._pages) > 1:
            self.action_previous_page()
        else:
            self.move_cursor(row=self.cursor_row - 1)

    def action_first_row(self) -> None:
        self._set_hover(None)
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self._set_hover(None)
        self.move_cursor(row=self.row_count - 1)

    def action_leftmost(self) -> None:
        self.scroll_to(x=0, animate=False)

    def action_rightmost(self) -> None:
        self.scroll_to(x=self.max_scroll_x, animate=False)

    def _move_by_screen(self, direction: int) -> None:
        """DataTable's page up/down: the cursor and the view move by one screenful of rows."""
        height = max(1, self.scrollable_content_region.height - self.header_height)
        self.scroll_relative(y=direction * height, animate=False, force=True)
        self.move_cursor(row=self.cursor_row + direction * height, scroll=False)
        self._scroll_to_cursor(False)

    def _fetch_or_say(self, after) -> list[Callback] | None:
        """A page from the store, or None after saying why not (a damaged page, an I/O error)."""
        try:
            return self.fetch(after, PAGE)
        except ContipleError as exc:
            self.app.notify(exc.message(), severity="error")
            return None

    # -- reading ahead ---------------------------------------------------------------------------

    def _next_start(self) -> Start | object:
        """Where the page after the one shown starts, or _NONE when this page is the last (it is short)."""
        if self.fetch is None or len(self._page_rows) < PAGE:
            return _NONE
        last = self._page_rows[-1]
        return (last.requested_at, last.id)

    def _page_at(self, start: Start) -> tuple[list[Callback] | None, _Drawn | None]:
        """The page starting at ``start`` (and its lines, if built): read ahead if it was, else read now
        (on the UI thread)."""
        kept = self._ahead.get(start)
        if kept is not None and kept[0] == self._generation:
            return kept[1], kept[2]
        return self._fetch_or_say(start), None

    def _keep(self, start: Start) -> None:
        """The page shown, about to be left, kept with what was drawn of it."""
        drawn = None
        if self._strips_stamp is not None:
            drawn = _Drawn(self._strips_stamp, self._marks, self._cells_cache, self._strips)
        self._ahead[start] = (self._generation, self._page_rows, drawn)

    def _forget_ahead(self) -> None:
        """The query or the data changed: pages read before are not shown again."""
        self._generation += 1
        self._ahead.clear()

    def _read_around(self) -> None:
        """Read the pages next to the one shown in a thread (the next first), unless they are at hand or
        the cursor is far from that side of the page (AHEAD_ZONE)."""
        if self.fetch is None or not self._pages:
            return
        after = self._next_start()
        before = self._pages[-2] if len(self._pages) > 1 else _NONE
        for start in [start for start in self._ahead if start != after and start != before]:
            del self._ahead[start]
        wanted = []
        if after is not _NONE and self.row_count - 1 - self.cursor_row < AHEAD_ZONE:
            wanted.append(after)
        if before is not _NONE and self.cursor_row < AHEAD_ZONE:
            wanted.append(before)
        missing = tuple(
            start for start in wanted if start not in self._ahead or self._ahead[start][0] != self._generation
        )
        if missing and self._reading != (self._generation, missing):  # not already on its way
            self._reading = (self._generation, missing)
            first = after if after is not _NONE else None
            self.run_worker(
                partial(self._read_ahead, self.fetch, self._generation, list(missing), first),
                thread=True,
                group="cb-ahead",
                exclusive=True,
                exit_on_error=False,
            )

    def _read_ahead(self, fetch: Fetch, generation: int, starts: list[Start], next_start: Start) -> None:
        """In a thread: the pages at ``starts``, kept for the keys to come; the next page's first screenful
        drawn too. A fault is not said here: the key that needs the page reads it again and says why."""
        worker = get_current_worker()
        try:
            for start in starts:
                try:
                    rows = fetch(start, PAGE)
                except ContipleError:
                    return
                if worker.is_cancelled or generation != self._generation:
                    return  # pages shown since want other neighbours, or the data changed
                drawn = self._prepare(rows) if start == next_start else None
                # One dict assignment (atomic); the stamp keeps a page of older data from ever being used.
                self._ahead[start] = (generation, rows, drawn)
        finally:
            if self._reading == (generation, tuple(starts)):
                self._reading = None  # a later move may ask again (after a fault, say)

    # -- re-reading the page shown -----------------------------------------------------------------

    def refresh_page(self) -> None:
        """Re-read the page on screen (after a change here or in another console), in a thread.

        What was read ahead is dropped at once (it may be out of date). The rows are compared with those
        shown: nothing is redrawn when none changed, only the changed rows when the same callbacks are
        shown in the same order, and the whole page (the cursor kept on its callback) otherwise."""
        if self.fetch is None or not self._pages:
            return
        self._forget_ahead()
        self.run_worker(
            partial(self._reread, self.fetch, self._generation, self._pages[-1]),
            thread=True,
            group="cb-reread",
            exclusive=True,
            exit_on_error=False,
        )

    def _reread(self, fetch: Fetch, generation: int, start: Start) -> None:
        try:
            rows = fetch(start, PAGE)
        except ContipleError as exc:
            self.app.call_from_thread(say_store_fault, self.app, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._reread_done, generation, start, rows)

    def _reread_done(self, generation: int, start: Start, rows: list[Callback]) -> None:
        if generation != self._generation or not self._pages or self._pages[-1] != start:
            return  # a newer search, re-read or page came meanwhile (it read fresh rows itself)
        if rows == self._page_rows:
            self._read_around()  # nothing visible changed; only the pages read ahead were dropped
            return
        if [c.id for c in rows] == [c.id for c in self._page_rows]:
            # The same callbacks in the same places: redraw the rows that changed, nothing else moves.
            changed = [i for i, (old, new) in enumerate(zip(self._page_rows, rows)) if old != new]
            self._page_rows = rows
            self.rows_by_key = {str(callback.id): callback for callback in rows}
            for index in changed:
                self._mark(index)
            self._read_around()
            return
        current, row = self.current, self.cursor_row
        self._show(rows)
        if self.row_count:
            found = self.row_of(current.id) if current is not None else None
            self.move_cursor(row=found if found is not None else min(row, self.row_count - 1))

    # -- selection -----------------------------------------------------------------------------

    @property
    def current(self) -> Callback | None:
        if not 0 <= self.cursor_row < len(self._page_rows):
            return None
        return self._page_rows[self.cursor_row]

    def _mark(self, index: int) -> None:
        self._cells_cache.pop(index, None)
        self._refresh_rows(index)

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
        self._marks += 1
        self._mark(self.cursor_row)
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)
        self._changed()
        self.post_message(self.SelectionChanged(self))

    def action_select_page(self) -> None:
        ids = {c.id for c in self._page_rows}
        if ids <= self.selected:
            self.selected -= ids
        else:
            self.selected |= ids
        self._marks += 1
        for index in range(len(self._page_rows)):
            self._mark(index)
        self._changed()
        self.post_message(self.SelectionChanged(self))

    def clear_selection(self) -> None:
        self.selected.clear()
        self._marks += 1
        for index in range(len(self._page_rows)):
            self._mark(index)
        self._changed()
        self.post_message(self.SelectionChanged(self))

    # -- scrolling and the mouse -----------------------------------------------------------------

    def _scroll_to_cursor(self, animate: bool) -> None:
        if not self._page_rows:
            self.scroll_to(y=0, animate=False, force=True)
            return
        y = self.header_height + self.cursor_row
        region = Region(int(self.scroll_x), y, max(1, self.size.width), 1)
        # The header stays on top: keep the cursor's line below it.
        self.scroll_to_region(region, animate=animate, spacing=(self.header_height, 0, 0, 0), force=True)

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < self.header_height:
            return None
        row = offset.y - self.header_height + int(self.scroll_y)
        return row if 0 <= row < self.row_count else None

    def _on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row is not None:
            self.move_cursor(row=row)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._row_at(event))

    def _on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, row: int | None) -> None:
        if row != self.hover_row:
            previous, self.hover_row = self.hover_row, row
            self._refresh_rows(*(index for index in (previous, row) if index is not None))

    # -- drawing ---------------------------------------------------------------------------------

    def _on_focus(self, event: events.Focus) -> None:
        self._restyle()

    def _on_blur(self, event: events.Blur) -> None:
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        """Focus, theme or classes changed: the cursor's and the rows' colours may have."""
        self._styles = None
        self._drawing += 1
        self.refresh()

    def redraw(self) -> None:
        """Every row drawn anew (what the cells show changed: e.g. a name the assignee column looks up)."""
        self._drawing += 1
        self._cells_cache = {}
        self.refresh()

    def _refresh_rows(self, *indexes: int) -> None:
        scroll_y = int(self.scroll_y)
        for index in set(indexes):
            for cursor in (True, False):
                for hover in (True, False):
                    self._strips.pop((index, cursor, hover), None)
            y = self.header_height + index - scroll_y
            if self.header_height <= y < self.size.height:
                self.refresh(Region(0, y, self.size.width, 1))

    def _styles_now(self) -> dict[str, Style]:
        if self._styles is None:
            # As DataTable takes them: the rows' and header's component styles as they are, the cursor's
            # combined with the table's own style.
            self._styles = {
                "base": self.rich_style,  # the table's own (tinted when focused)
                "header": self.get_component_styles("callback-table--header").rich_style,
                "even": self.get_component_styles("callback-table--even-row").rich_style,
                "odd": self.get_component_styles("callback-table--odd-row").rich_style,
                "cursor": self.get_component_rich_style("callback-table--cursor"),
                "hover": self.get_component_rich_style("callback-table--hover"),
            }
        return self._styles

    def _stamp(self) -> tuple[int, int, int]:
        """What a drawn line depends on besides its row: the styles (a generation), the sideways scroll and
        the width."""
        return (self._drawing, int(self.scroll_x), self.size.width)

    def _install(self, drawn: _Drawn | None) -> None:
        """A new page's cells and lines: those drawn ahead when they are still right, else none yet."""
        header = self._strips.get((-1, False, False))
        if drawn is not None and drawn.stamp == self._stamp() and drawn.marks == self._marks:
            # New dicts: a page kept while it was left holds the old ones.
            self._cells_cache, self._strips = dict(drawn.cells), dict(drawn.strips)
        else:
            self._cells_cache, self._strips = {}, {}
        if header is not None and self._strips_stamp == self._stamp():
            self._strips[(-1, False, False)] = header
        self._strips_stamp = self._stamp()

    def _cut(self, callback: Callback, console: Console) -> list[list[Segment]]:
        return [_fit(console, cell, width) for cell, width in zip(self._cells(callback), self._widths)]

    def _row_cells(self, index: int) -> list[list[Segment]]:
        cells = self._cells_cache.get(index)
        if cells is None:
            cells = self._cells_cache[index] = self._cut(self._page_rows[index], self.app.console)
        return cells

    def _prepare(self, rows: list[Callback]) -> _Drawn | None:
        """In a thread: the cut cells and built lines of a page's first screenful as it will be shown (its
        first row under the cursor), so that showing it has nothing new to draw. None before the first
        drawing (no styles yet) or if anything goes wrong: the lines are then drawn when shown."""
        try:
            stamp, marks, styles = self._stamp(), self._marks, self._styles
            if styles is None:
                return None
            console = self.app.console
            height = max(0, self.size.height - self.header_height)
            cells: dict[int, list[list[Segment]]] = {}
            strips: dict[LineKey, Strip] = {}
            for index in range(min(len(rows), height)):
                cells[index] = self._cut(rows[index], console)
                strips[(index, index == 0, False)] = self._strip(
                    index, cells[index], index == 0, False, styles, stamp[1], stamp[2]
                )
            return _Drawn(stamp, marks, cells, strips)
        except Exception:  # noqa: BLE001 - an optimisation only
            return None

    def _strip(
        self,
        index: int,
        cells: list[list[Segment]],
        cursor: bool,
        hover: bool,
        styles: dict[str, Style],
        scroll_x: int,
        width: int,
    ) -> Strip:
        """A line (index -1: the header) in DataTable's styles, cut to the view. Reads nothing that changes:
        it also runs in threads, drawing a page ahead."""
        row_style = styles["header"] if index < 0 else styles["odd" if index % 2 else "even"]
        component = Style()
        if hover:
            component += styles["hover"]
        if cursor:
            component += styles["cursor"]
        # DataTable: each cell is Styled(Padding(cell, (0, 1)), pre_style=row + hover + cursor, post_style=
        # their colour), i.e. every segment's style is pre + its own + post.
        pre = row_style + component
        post = Style.from_color(color=component.color) if component.color else Style.null()
        plain = pre + post
        pad = Segment(" ", plain)
        segments = []
        for cell in cells:
            segments.append(pad)
            for text, style, _ in cell:
                segments.append(Segment(text, pre + style + post if style else plain))
            segments.append(pad)
        # DataTable extends each row to the widget's width in the row's (and hover's and cursor's) style.
        segments.append(Segment(" " * max(0, width - self.table_width), pre))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.adjust_cell_length(width, styles["base"]).simplify()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        styles = self._styles_now()
        if y < self.header_height:
            index = -1
        else:
            index = y - self.header_height + int(self.scroll_y)
            if index >= len(self._page_rows):
                return Strip.blank(width, styles["base"])
        stamp = self._stamp()
        if stamp != self._strips_stamp:
            self._strips, self._strips_stamp = {}, stamp
        key = (index, index == self.cursor_row, index >= 0 and index == self.hover_row)
        strip = self._strips.get(key)
        if strip is None:
            if index < 0:
                console = self.app.console
                cells = [_fit(console, " ", 1)] + [
                    _fit(console, c.label if cell_len(c.label) <= w or not c.short else c.short, w)
                    for c, w in self._shown
                ]
            else:
                cells = self._row_cells(index)
            strip = self._strips[key] = self._strip(index, cells, key[1], key[2], styles, stamp[1], width)
        return strip


def _fit(console: Console, cell: str | Text, width: int) -> list[Segment]:
    """A cell's segments, its text cut (or padded) to the column's width, as DataTable draws a one-line cell
    (Text.truncate with the cell's overflow, then its justification)."""
    if isinstance(cell, str) or not cell.spans:
        # One style for the whole cell (every cell of ours): plain string work, no Rich rendering.
        text = cell if isinstance(cell, str) else cell.plain
        style = None if isinstance(cell, str) else cell.style
        overflow = None if isinstance(cell, str) else cell.overflow
        justify = None if isinstance(cell, str) else cell.justify
        if cell_len(text) > width:
            text = (
                set_cell_size(text, width - 1) + "…" if overflow == "ellipsis" else set_cell_size(text, width)
            )
        gap = width - cell_len(text)
        if gap > 0:
            if justify == "right":
                text = " " * gap + text
            elif justify == "center":
                text = " " * (gap // 2) + text + " " * (gap - gap // 2)
            else:
                text = text + " " * gap
        if not style:
            return [Segment(text)]
        return [Segment(text, console.get_style(style) if isinstance(style, str) else style)]
    text = cell.copy()
    text.end = ""
    text.truncate(width, overflow=text.overflow or "crop")
    text.align(text.justify if text.justify in ("left", "center", "right") else "left", width)
    return list(text.render(console))
