"""The wallboard's boards: one line widget per row, so a change repaints only the rows that changed.

A DataTable invalidates its whole render cache on any cell update, so every CTI event repainted and
re-sent every line of the board (bench/bench_wallboard_traffic.py). Here each row is its own Static:
when a number changes, only that row's line is rendered and written to the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from contiple_tui.widgets.bindings import Localized

Cell = str | Text


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


class LiveBoard(Localized, Vertical):
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

    # -- drawing ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        height = max(len(header_lines(c.label)) for c in self.board_columns)
        for line in range(height):
            cells = []
            for column in self.board_columns:
                parts = header_lines(column.label)
                # Bottom-aligned: one-line headers sit on the last line, next to the second halves.
                index = line - (height - len(parts))
                cells.append(parts[index] if 0 <= index < len(parts) else "")
            yield Static(self._line(cells, bold=True), classes="board-header")

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
        lines = list(self.query(".board-row"))
        if [k for k, _ in old] != [k for k, _ in rows] or len(lines) != len(rows):
            for widget in lines:
                widget.remove()
            self.mount_all(
                Static(self._line(cells, selected=self._selected(i)), classes="board-row")
                for i, (_, cells) in enumerate(rows)
            )
            return
        for index, ((_, cells), (_, before)) in enumerate(zip(rows, old)):
            if cells != before or any(
                isinstance(a, Text) and isinstance(b, Text) and a.style != b.style for a, b in zip(cells, before)
            ):
                lines[index].update(self._line(cells, selected=self._selected(index)), layout=False)

    def _selected(self, index: int) -> bool:
        return self.can_focus and self.has_focus and index == self.cursor_row

    def _redraw_cursor(self, previous: int) -> None:
        lines = list(self.query(".board-row"))
        for index in {previous, self.cursor_row}:
            if 0 <= index < len(lines):
                lines[index].update(self._line(self._rows[index][1], selected=self._selected(index)), layout=False)

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
