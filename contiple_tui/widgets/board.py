"""A live table that changes only what changed: cells are updated in place, rows added or removed.

Rebuilding a DataTable on every CTI event would repaint the whole table many times a second; a wall
TV runs for weeks, and agents sit on slow SSH links.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from contiple_tui.widgets.bindings import Localized

Cell = str | Text


def _header_lines(label: str) -> list[str]:
    """Two-word headers on two lines (대기 고객, 서비스 레벨, 휴식/업무처리), so boards fit 80 columns."""
    parts = re.split(r"(?<=/)|\s+", label, maxsplit=1)
    return [p for p in parts if p] if len(parts) > 1 and cell_len(label) > 6 else [label]


class BoardTable(Localized, DataTable):
    def __init__(
        self,
        columns: Sequence[tuple[str, str, int]],
        cursor: bool = False,
        text_columns: Collection[str] = ("name",),
        **kwargs,
    ) -> None:
        """``columns``: (key, label, minimum width); ``cursor``: rows can be pointed at; ``text_columns``:
        the keys of the columns of text, read from the left: their headers are too (the others' headers
        sit right, over their numbers)."""
        super().__init__(cursor_type="row", zebra_stripes=True, show_cursor=cursor, **kwargs)
        self._column_spec = list(columns)
        self._text_columns = frozenset(text_columns)
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        self.header_height = max(len(_header_lines(label)) for _, label, _ in self._column_spec)
        for key, label, width in self._column_spec:
            lines = _header_lines(label)
            # Fixed widths: numbers ticking up never make the columns jump.
            width = max(width, *(cell_len(line) for line in lines))
            justify = "left" if key in self._text_columns else "right"
            self.add_column(Text("\n".join(lines), justify=justify), key=key, width=width)

    def set_rows(self, rows: Sequence[tuple[str, tuple[Cell, ...]]]) -> None:
        keys = [key for key, _ in rows]
        if keys != self._order:
            # Rows appeared, left or moved: rebuild, keeping the reader's place.
            scroll_y, cursor = self.scroll_y, self.cursor_row
            self.clear()
            self._rows.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
                self._rows[key] = cells
            self._order = keys
            if rows:
                self.move_cursor(row=min(cursor, len(rows) - 1), animate=False, scroll=False)
            self.scroll_to(y=scroll_y, animate=False)
            return
        column_keys = [key for key, _, _ in self._column_spec]
        for key, cells in rows:
            old = self._rows.get(key)
            if old == cells:
                continue
            for index, cell in enumerate(cells):
                if old is None or old[index] != cell:
                    self.update_cell(key, column_keys[index], cell)
            self._rows[key] = cells
