"""The kiosk's board in big numbers, for a wall TV read from across the room.

The same rows as the board it stands in for (a LiveBoard keeps them and is shown when the big board
does not fit), drawn with every number three lines tall (big_text) and a blank line or more under each
row. One widget per column: Textual writes a changed line of a widget from the widget's left edge to
the change, so a number that changes costs its own column's three short lines, not three lines of the
whole board from its left edge. Within a column only the rows that changed are repainted.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region, Size
from textual.renderables.text_opacity import TextOpacity
from textual.strip import Strip
from textual.widget import Widget

from contiple_tui.widgets.big_text import HEIGHT, big, big_width
from contiple_tui.widgets.live_board import Cell, _same_cell, header_lines

GAP = 2  # cells between big numbers, besides a space either side
MAX_SPREAD = 10  # the most spare width a number column takes
MAX_ROW_GAP = 3  # the most blank lines under a row


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _style(cell: Cell) -> str:
    return str(cell.style) if isinstance(cell, Text) else ""


class BigColumn(Widget):
    """One column: its header lines, then each row's cell three lines tall (a name on the middle one)."""

    COMPONENT_CLASSES = {"big-column--header"}
    DEFAULT_CSS = """
    BigColumn {
        width: auto;
        height: auto;
    }
    BigColumn > .big-column--header {
        background: $panel;
        text-style: bold;
    }
    """

    def __init__(self, label: str, left: bool, header_height: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.left = left  # names, left-aligned; numbers are right-aligned and big
        self.header_height = header_height
        self.cells: list[Cell] = []
        self.inner = cell_len(label)  # the width inside the column's one-space margins
        self.row_height = HEIGHT + 1
        self._strips: dict[int, Strip] = {}
        self._styles: dict[str, Style] = {}
        self._shown: dict[int, Strip] = {}  # lines as they go to the screen (the text opacity applied)

    def need(self, cells: Sequence[Cell]) -> int:
        """The inner width these cells need."""
        widths = [cell_len(line) for line in header_lines(self.label)]
        widths += [cell_len(_plain(c)) if self.left else big_width(_plain(c)) + GAP for c in cells]
        return max(widths)

    def lay_out(self, inner: int, row_height: int) -> None:
        if (inner, row_height) != (self.inner, self.row_height):
            self.inner, self.row_height = inner, row_height
            self._strips.clear()
            self._shown.clear()
            self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.inner + 2

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.header_height + max(0, len(self.cells) * self.row_height - (self.row_height - HEIGHT))

    def set_cells(self, cells: Sequence[Cell]) -> None:
        old, self.cells = self.cells, list(cells)
        if len(old) != len(cells):
            self._strips.clear()
            self._shown.clear()
            self.refresh(layout=True)
            return
        for index, (new, was) in enumerate(zip(cells, old)):
            if _same_cell(new, was):
                continue
            y = self.header_height + index * self.row_height
            for line in range(y, y + HEIGHT):
                self._strips.pop(line, None)
                self._shown.pop(line, None)
            self.refresh(Region(0, y, self.inner + 2, HEIGHT))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()
        self._shown.clear()
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        """The styles cache's path, without its work per line (most of a big board's frame).

        A column has no padding, border, tint or opacity of its own and its lines carry its full
        style, so what that path adds is the text opacity of a stale board and the app's line filters:
        done here on this column's cached lines. A test compares the two paths segment for segment.
        """
        styles = self.styles
        if styles.opacity != 1 or styles.tint.a or styles.padding or styles.border.spacing:
            return super().render_lines(crop)
        shown, opacity = self._shown, styles.text_opacity
        filters = self.get_line_filters()
        background = self.background_colors[1] if filters else None
        strips = []
        for y in crop.line_range:
            strip = shown.get(y)
            if strip is None:
                strip = self.render_line(y)
                if opacity != 1:
                    app = self.app
                    segments = TextOpacity.process_segments(
                        strip, opacity, app.ansi_theme, app.native_ansi_color
                    )
                    strip = Strip(segments, strip.cell_length)
                shown[y] = strip
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        if crop.column_span != (0, self.size.width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _rich(self, style: str = "") -> Style:
        """The column's own style ("") or it with ``style`` on top; cached until the styles change
        (``rich_style`` walks every ancestor's styles: a frame of a big board asked it hundreds of times)."""
        rich = self._styles.get(style)
        if rich is None:
            base = self.rich_style
            rich = self._styles[style] = base + self.app.console.get_style(style) if style else base
        return rich

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._line(y)
        return strip

    def _line(self, y: int) -> Strip:
        width = self.inner + 2
        if y < self.header_height:
            parts = header_lines(self.label)
            index = y - (self.header_height - len(parts))  # bottom-aligned, as the small board's
            text = parts[index] if 0 <= index < len(parts) else ""
            pad = self.inner - cell_len(text)
            text = text + " " * pad if self.left else " " * pad + text
            style = self.get_component_rich_style("big-column--header")
            return Strip([Segment(f" {text} ", style)], width)
        index, line = divmod(y - self.header_height, self.row_height)
        if index >= len(self.cells) or line >= HEIGHT:
            return Strip.blank(width, self._rich())
        cell = self.cells[index]
        if self.left:
            text = Text(_plain(cell) if line == 1 else "", no_wrap=True, overflow="ellipsis")
            text.truncate(self.inner, overflow="ellipsis", pad=True)
            return Strip([Segment(f" {text.plain} ", self._rich(_style(cell) or "bold"))], width)
        glyphs = big(_plain(cell))[line]
        text = " " * max(0, self.inner - cell_len(glyphs)) + glyphs
        plain = self._rich()
        return Strip(
            [Segment(" ", plain), Segment(text, self._rich(_style(cell))), Segment(" ", plain)], width
        )


class BigBoard(Horizontal):
    """A board's columns in big numbers. ``show_rows`` takes the rows as the LiveBoard does when they
    fit a room, sharing its spare width and height."""

    DEFAULT_CSS = """
    BigBoard {
        width: 100%;
        height: auto;
    }
    """

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.header_height = max(len(header_lines(label)) for _, label in columns)
        self.board_columns = [
            BigColumn(label, key == "name", self.header_height, classes=f"big-{key}")
            for key, label in columns
        ]
        self._needs: list[int] = [0] * len(columns)  # only ever grow: a digit more must not shift the board

    def compose(self) -> ComposeResult:
        yield from self.board_columns

    def show_rows(self, rows: Sequence[tuple[str, tuple[Cell, ...]]], room: Size) -> bool:
        """Show ``rows`` if the big board fits ``room``; False (and nothing changed) if it does not."""
        if not rows:
            return False
        needs = [
            max(have, column.need([cells[i] for _, cells in rows]))
            for i, (column, have) in enumerate(zip(self.board_columns, self._needs))
        ]
        height = self.header_height + len(rows) * (HEIGHT + 1) - 1
        spare = room.width - sum(need + 2 for need in needs)
        if spare < 0 or height > room.height:
            return False
        self._needs = needs
        spread = min(MAX_SPREAD, spare // len(needs))
        row_height = HEIGHT + 1 + min(MAX_ROW_GAP - 1, (room.height - height) // len(rows))
        for index, column in enumerate(self.board_columns):
            column.lay_out(needs[index] + (0 if column.left else spread), row_height)
            column.set_cells([cells[index] for _, cells in rows])
        return True
