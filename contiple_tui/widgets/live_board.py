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

from contiple_tui.widgets.big_text import HEIGHT as BIG_HEIGHT
from contiple_tui.widgets.big_text import big, big_width
from contiple_tui.widgets.bindings import Localized

Cell = str | Text
CACHE_SIZE = 1_000  # cells laid out, kept until there are this many (counts only ever grow)
BIG_GAP = 2  # cells between big numbers, besides the columns' padding
MAX_SPREAD = 10  # the most spare width a big column takes
MAX_ROW_GAP = 3  # the most blank lines under a big row


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


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


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

    def __init__(self, columns: Sequence[tuple[str, str, int]], cursor: bool = False, scalable: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.small_columns = []
        for key, label, width in columns:
            lines = header_lines(label)
            width = max(width, *(cell_len(line) for line in lines))
            self.small_columns.append(BoardColumn(key, label, width, key == "name"))
        self.board_columns = list(self.small_columns)
        self.can_focus = cursor
        self.cursor_row = 0
        self._rows: list[tuple[str, tuple[Cell, ...]]] = []
        # Big: each row's numbers three lines tall (big_text) and a blank line under it, when the board
        # fits its room that way (``scalable``: the kiosk); else one line per row.
        self.scalable = scalable
        self._big_need: list[int] | None = None
        self._cell_x: list[int] = []  # where each column starts, on a big board
        self.big = False
        self.row_height = 1
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
        if self.scalable and self._rescale():
            return
        if len(old) != len(rows):
            self._strips.clear()
            self.virtual_size = Size(self.line_width, self.header_height + len(rows) * self.row_height)
            self.refresh(layout=True)
            return
        for index, ((key, cells), (old_key, before)) in enumerate(zip(rows, old)):
            if key != old_key:
                self._refresh_row(index)
            elif cells is not before:
                changed = [i for i, (a, b) in enumerate(zip(cells, before)) if not _same_cell(a, b)]
                if changed and self.big:
                    self._refresh_cells(index, changed, before)
                elif changed:
                    self._refresh_row(index)

    def _refresh_cells(self, index: int, changed: list[int], before: Sequence[Cell]) -> None:
        """A big row's changed numbers only, and of each only the columns of characters that differ
        (101 after 100: one digit's three cells on three lines, not three whole lines). A name, or a
        number whose style changed (a threshold crossed), is repainted whole; cuts fall between the
        narrow characters of big digits, never inside a wide (Korean) one."""
        y = self.header_height + index * self.row_height
        for line in range(y, y + BIG_HEIGHT):
            self._strips.pop(line, None)
        scroll_x, scroll_y = self.scroll_offset
        cells = self._rows[index][1]
        for i in changed:
            column = self.board_columns[i]
            x, width = self._cell_x[i], column.width + 2
            new, old = cells[i], before[i]
            same_style = (new.style if isinstance(new, Text) else "") == (old.style if isinstance(old, Text) else "")
            if not column.left and same_style:
                now, was = self._big_cell(new, column.width), self._big_cell(old, column.width)
                differ = [c for c in range(column.width) if any(a[c] != b[c] for a, b in zip(now, was))]
                if not differ:
                    continue
                x, width = x + 1 + differ[0], differ[-1] - differ[0] + 1
            self.refresh(Region(x - scroll_x, y - scroll_y, width, BIG_HEIGHT))

    @staticmethod
    def _big_cell(cell: Cell, width: int) -> tuple[str, ...]:
        """A number's three big lines, right-aligned in its column (as _render_big_line draws them)."""
        return tuple(line.rjust(width)[-width:] for line in big(_plain(cell)))

    def _refresh_row(self, index: int) -> None:
        """Re-render a row's line and send it to the terminal.

        The whole line, not only the cells that changed: a cut inside a segment with wide (Korean)
        characters goes through Rich's cache of split segments (an LRU of 16,384 entries, never
        emptied), and the first segment of a row holds the service's name and the numbers after it,
        which change all the time: the kiosk's memory grew by megabytes over a million events.
        """
        y = self.header_height + index * self.row_height
        height = BIG_HEIGHT if self.big else 1  # (the blank line under a big row never changes)
        for line in range(y, y + height):
            self._strips.pop(line, None)
        scroll_x, scroll_y = self.scroll_offset
        self.refresh(Region(-scroll_x, y - scroll_y, self.line_width, height))

    # -- scale (the kiosk) -----------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.scalable and self.parent is not None:
            # The room is the container's: a wall TV's terminal resized changes it, not the board's lines.
            self.watch(self.parent, "size", lambda _size: self._rescale(), init=False)

    def _big_needs(self) -> list[int] | None:
        """Each column's width for big numbers (never narrower than before: a number growing by a digit
        must not shift the board every few seconds), or None without rows yet."""
        if not self._rows:
            return None
        needs = []
        for index, column in enumerate(self.small_columns):
            values = [_plain(cells[index]) for _, cells in self._rows]
            if column.left:
                need = max(column.width, *(cell_len(v) for v in values))
            else:  # a big digit's room between numbers
                need = max(column.width, *(big_width(v) for v in values)) + BIG_GAP
            needs.append(need)
        if self._big_need is not None:
            needs = [max(a, b) for a, b in zip(needs, self._big_need)]
        self._big_need = needs
        return needs

    def _rescale(self) -> bool:
        """Big when the big board fits the room it has (the columns then share the spare width, the rows
        the spare height), else small; True if the board was laid out anew."""
        parent = self.parent  # the board is as tall and wide as its lines: the room is its container's
        room_width, room_height = parent.size if parent is not None else self.size
        needs = self._big_needs()
        big, columns, row_height = False, list(self.small_columns), 1
        if needs is not None and room_width and room_height:
            width = sum(need + 2 for need in needs)
            rows = len(self._rows)
            height = self.header_height + rows * (BIG_HEIGHT + 1) - 1
            big = width <= room_width and height <= room_height
            if big:
                spread = min(MAX_SPREAD, (room_width - width) // len(needs))
                columns = [BoardColumn(c.key, c.label, need + (0 if c.left else spread), c.left)
                           for c, need in zip(self.small_columns, needs)]
                row_height = BIG_HEIGHT + 1 + min(MAX_ROW_GAP - 1, (room_height - height) // max(rows, 1))
        if big == self.big and columns == self.board_columns and row_height == self.row_height:
            return False
        self.big = big
        self.board_columns = columns
        self.row_height = row_height
        self.line_width = sum(column.width + 2 for column in self.board_columns)
        self._cell_x = [sum(c.width + 2 for c in self.board_columns[:i]) for i in range(len(self.board_columns))]
        self._header_texts = self._headers()
        self._strips.clear()
        self._cell_cache.clear()
        self.set_class(big, "-big")
        self.virtual_size = Size(self.line_width, self.header_height + len(self._rows) * self.row_height)
        self.refresh(layout=True)
        return True

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
            elif (y - self.header_height) // self.row_height < len(self._rows):
                index, line = divmod(y - self.header_height, self.row_height)
                if not self.big:
                    strip = self._render_row(self._rows[index][1], self._selected(index))
                elif line < BIG_HEIGHT:
                    strip = self._render_big_line(self._rows[index][1], line, self._selected(index))
                else:
                    strip = Strip.blank(self.line_width, self.visual_style.rich_style)
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

    def _render_big_line(self, cells: Sequence[Cell], line: int, selected: bool) -> Strip:
        """One of a big row's three lines: the names on the middle one, the numbers in big_text, each
        in its cell's style (a threshold's colour; its mark is drawn big too)."""
        segments: list[Segment] = []
        x = 0
        for index, cell in enumerate(cells):
            column = self.board_columns[index]
            style = cell.style if isinstance(cell, Text) else ""
            plain = _plain(cell)
            if column.left:
                text = self._laid_out(index, cell) if line == 1 else " " * column.width
                style = style or "bold"
            else:
                glyphs = big(plain)[line]
                text = " " * max(0, column.width - cell_len(glyphs)) + glyphs
            for piece, piece_style in ((" ", None), (text, style or None), (" ", None)):
                segments.append(Segment(piece, self._run_style(piece_style, selected, x)))
                x += cell_len(piece)
        # Runs of one style as one segment: Textual writes a changed line from the board's left edge to
        # the change, and every segment costs its escape sequences.
        return Strip(segments, self.line_width).simplify()

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
                stack.append(VisualStyle.from_rich_style(
                    app.console.get_style(rich) if isinstance(rich, str) else rich, app.ansi_theme
                ))
            style = self._style_cache[key] = (base + VisualStyle.combine(stack)).rich_style_with_offset(x, 0)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme or class change: colours may differ
        self._style_cache.clear()
        self.refresh()

    def _selected(self, index: int) -> bool:
        # A big board is the kiosk's, read from across the room: no cursor drawn on it.
        return self.can_focus and self.has_focus and index == self.cursor_row and not self.big

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
