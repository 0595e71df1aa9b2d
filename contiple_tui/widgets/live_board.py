"""The wallboard's boards: one widget drawing its own lines, so a change repaints only the rows that changed.

A DataTable invalidates its whole render cache on any cell update, so every CTI event repainted and
re-sent every line of the board (bench/bench_wallboard_traffic.py). Here the board keeps one rendered
line per row and, when a number changes, re-renders and refreshes only that row's line: only that line
is composited and written to the terminal. One widget rather than one per row, because Textual's
compositor visits every widget around an update on every screen update (a wall TV gets several a
second), and every widget makes each layout (the rotation) dearer.

The lines look exactly as a line widget per row did (a `Static` each: the header lines on the
`$panel` background, as wide as the board; the rows on the board's own background), and the board's
own `text-opacity` (the wallboard dims it while the feed is down) applies to all of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual, visualize

from contiple_tui.widgets.bindings import Localized

Cell = str | Text
CACHE_SIZE = 1_000  # cells laid out, kept until there are this many (counts only ever grow)


def header_lines(label: str) -> list[str]:
    """Two-word headers on two lines (대기 고객, 서비스 레벨, 휴식/업무처리), so boards fit 80 columns."""
    parts = re.split(r"(?<=/)|\s+", label, maxsplit=1)
    return [p for p in parts if p] if len(parts) > 1 and cell_len(label) > 6 else [label]


@dataclass(frozen=True)
class BoardColumn:
    key: str
    label: str
    width: int
    left: bool  # names are left-aligned, numbers right-aligned


def _same_cell(a: Cell, b: Cell) -> bool:
    """Same text and the same look (``Text ==`` compares the characters and spans, not the style)."""
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return a == b and a.style == b.style and a.justify == b.justify
    return a == b


class LiveBoard(Localized, ScrollView, inherit_bindings=False):
    """Header lines, then one line per row; scrolls sideways (``overflow-x: auto``) on narrow terminals."""

    ALLOW_MAXIMIZE = None
    COMPONENT_CLASSES = {"live-board--header"}
    DEFAULT_CSS = """
    LiveBoard {
        /* As wide as its lines: Textual's crops then fall on segment ends (see _refresh_row). */
        width: auto;
        max-width: 100%;
        height: 1fr;
        overflow: hidden hidden;
    }
    LiveBoard > .live-board--header {
        background: $panel;
    }
    """
    BINDINGS = [
        Binding("up", "cursor_up", "tx.Up", show=False, id="board.up"),
        Binding("down", "cursor_down", "tx.Down", show=False, id="board.down"),
    ]

    def __init__(self, columns: Sequence[tuple[str, str, int]], cursor: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.board_columns = []
        for key, label, width in columns:
            lines = header_lines(label)
            width = max(width, *(cell_len(line) for line in lines))
            self.board_columns.append(BoardColumn(key, label, width, key == "name"))
        self.can_focus = cursor
        self.cursor_row = 0
        self._rows: list[tuple[str, tuple[Cell, ...]]] = []
        self.header_height = max(len(header_lines(c.label)) for c in self.board_columns)
        self.line_width = sum(column.width + 2 for column in self.board_columns)  # a space either side
        self._header_texts = self._headers()
        self._strips: dict[int, Strip] = {}  # rendered lines (headers, then rows), full board width
        self._cell_cache: dict[tuple[int, str], str] = {}  # cells laid out in their columns
        self._style_cache: dict[tuple, RichStyle] = {}  # segment styles, by span, cursor and offset
        self.virtual_size = Size(self.line_width, self.header_height)

    # -- compatibility with the DataTable-shaped questions tests and views ask ---------------------

    @property
    def columns(self) -> dict[str, BoardColumn]:
        return {c.key: c for c in self.board_columns}

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, index: int) -> tuple[Cell, ...]:
        return self._rows[index][1]

    def key_at(self, index: int) -> str | None:
        return self._rows[index][0] if 0 <= index < len(self._rows) else None

    # -- content ---------------------------------------------------------------------------------

    def _headers(self) -> list[Text]:
        height = self.header_height
        texts = []
        for line in range(height):
            cells = []
            for column in self.board_columns:
                parts = header_lines(column.label)
                # Bottom-aligned: one-line headers sit on the last line, next to the second halves.
                index = line - (height - len(parts))
                cells.append(parts[index] if 0 <= index < len(parts) else "")
            texts.append(self._line(cells, bold=True))
        return texts

    def _line(self, cells: Sequence[Cell], *, bold: bool = False, selected: bool = False) -> Text:
        line = Text(no_wrap=True, end="")
        for column, cell in zip(self.board_columns, cells):
            text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
            text.truncate(column.width, overflow="ellipsis")
            text.align("left" if column.left else "right", column.width)
            line.append(" ")
            line.append_text(text)
            line.append(" ")
        if bold:
            line.stylize("bold")
        if selected:
            line.stylize("reverse")
        return line

    def set_rows(self, rows: Sequence[tuple[str, tuple[Cell, ...]]]) -> None:
        old = self._rows
        self._rows = list(rows)
        self.cursor_row = min(self.cursor_row, max(0, len(rows) - 1))
        if len(old) != len(rows):
            self._strips.clear()
            self.virtual_size = Size(self.line_width, self.header_height + len(rows))
            self.refresh(layout=True)
            return
        for index, ((key, cells), (old_key, before)) in enumerate(zip(rows, old)):
            if key != old_key or (cells is not before and not all(map(_same_cell, cells, before))):
                self._refresh_row(index)

    def _refresh_row(self, index: int) -> None:
        """Re-render a row's line and send it to the terminal.

        The whole line, not only the cells that changed: a cut inside a segment with wide (Korean)
        characters goes through Rich's cache of split segments (an LRU of 16,384 entries, never
        emptied), and the first segment of a row holds the service's name and the numbers after it,
        which change all the time: the kiosk's memory grew by megabytes over a million events.
        """
        y = self.header_height + index
        self._strips.pop(y, None)
        scroll_x, scroll_y = self.scroll_offset
        self.refresh(Region(-scroll_x, y - scroll_y, self.line_width, 1))

    # -- drawing ---------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        strip = self._strip(y + scroll_y)
        return strip.crop(scroll_x, scroll_x + self.size.width)

    def _strip(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            if y < self.header_height:
                strip = self._render_text(self._header_texts[y], self.get_visual_style("live-board--header"))
            elif y - self.header_height < len(self._rows):
                index = y - self.header_height
                strip = self._render_row(self._rows[index][1], self._selected(index))
            else:
                return Strip.blank(self.line_width, self.visual_style.rich_style)
            self._strips[y] = strip
        return strip

    def _render_text(self, text: Text, style: VisualStyle) -> Strip:
        """The very path a Static takes to draw a rich Text: the same segments and styles."""
        return Visual.to_strips(self, visualize(self, text, markup=False), cell_len(text.plain), 1, style)[0]

    def _render_row(self, cells: Sequence[Cell], selected: bool) -> Strip:
        """A row's line: the segments `_render_text(_line(...))` gives, without its cost per line.

        Rendering a line through Textual's Content takes a good half millisecond, and a wall TV
        renders a few lines for every event. The line's layout is fixed (`_line`: each cell between
        two spaces, truncated and aligned to its column; a cell's style spans its column, the cursor
        spans the line), so its segments are known: plain stretches run across cells, each styled
        cell is one segment, and a segment's style is what Content gives an interval under those
        spans, at that offset. Cells laid out and styles worked out are cached. Cells with spans of
        their own take the general path. A test compares the two paths.
        """
        if any(isinstance(cell, Text) and cell.spans for cell in cells):
            return self._render_text(self._line(cells, selected=selected), self.visual_style)
        segments: list[Segment] = []
        x = 0
        plain: list[str] = []
        for index, cell in enumerate(cells):
            style = cell.style if isinstance(cell, Text) else ""
            text = self._laid_out(index, cell)
            if not style:
                plain += (" ", text, " ")
                continue
            plain.append(" ")
            run = "".join(plain)
            segments.append(Segment(run, self._run_style(None, selected, x)))
            x += len(run)
            segments.append(Segment(text, self._run_style(style, selected, x)))
            x += len(text)
            plain = [" "]
        run = "".join(plain)
        segments.append(Segment(run, self._run_style(None, selected, x)))
        if len(self._cell_cache) > CACHE_SIZE:
            self._cell_cache.clear()
        return Strip(segments, self.line_width)

    def _laid_out(self, index: int, cell: Cell) -> str:
        """A cell's characters as `_line` lays them out in its column."""
        key = (index, cell if isinstance(cell, str) else cell.plain)
        text = self._cell_cache.get(key)
        if text is None:
            column = self.board_columns[index]
            laid = Text(str(cell) if isinstance(cell, str) else cell.plain)
            laid.truncate(column.width, overflow="ellipsis")
            laid.align("left" if column.left else "right", column.width)
            text = self._cell_cache[key] = laid.plain
        return text

    def _run_style(self, span: str | RichStyle | None, selected: bool, x: int) -> RichStyle:
        """The style Content gives the interval at ``x`` under a cell's ``span`` and the cursor."""
        key = (span, selected, x)
        style = self._style_cache.get(key)
        if style is None:
            base = self.visual_style
            app = self.app
            stack = [base]
            for rich in ((span,) if span else ()) + (("reverse",) if selected else ()):
                stack.append(
                    VisualStyle.from_rich_style(
                        app.console.get_style(rich) if isinstance(rich, str) else rich, app.ansi_theme
                    )
                )
            style = self._style_cache[key] = (base + VisualStyle.combine(stack)).rich_style_with_offset(x, 0)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme or class change: colours may differ
        self._style_cache.clear()
        self.refresh()

    def _selected(self, index: int) -> bool:
        return self.can_focus and self.has_focus and index == self.cursor_row

    def _redraw_cursor(self, previous: int) -> None:
        for index in {previous, self.cursor_row}:
            if 0 <= index < len(self._rows):
                self._refresh_row(index)

    def action_cursor_up(self) -> None:
        previous = self.cursor_row
        self.cursor_row = max(0, self.cursor_row - 1)
        self._redraw_cursor(previous)

    def action_cursor_down(self) -> None:
        previous = self.cursor_row
        self.cursor_row = min(max(0, len(self._rows) - 1), self.cursor_row + 1)
        self._redraw_cursor(previous)

    def on_focus(self) -> None:
        self._redraw_cursor(self.cursor_row)

    def on_blur(self) -> None:
        self._redraw_cursor(self.cursor_row)
