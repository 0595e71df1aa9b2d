"""Numbers three lines tall for boards read from across a room (the kiosk's big board).

Digits are Textual's own 3x3 font (the `Digits` widget's); the marks of a threshold keep their shapes
(▲ warning, ◆ critical) so that they read without colour; anything else is drawn as itself on the
middle line. Every glyph's characters are ones Rich knows to be one cell wide (box drawing, geometric
shapes, ASCII), so a repaint of part of a number is a plain slice of its segment.
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len
from textual.renderables.digits import DIGITS, DIGITS3X3

HEIGHT = 3

_GLYPHS: dict[str, tuple[str, str, str]] = {}
for _index, _char in enumerate(DIGITS):
    if _char.isdigit():
        rows = DIGITS3X3[_index * 3 : _index * 3 + 3]
        _GLYPHS[_char] = tuple(row.ljust(3) for row in rows)  # type: ignore[assignment]
_GLYPHS.update(
    {
        ".": (" ", " ", "▪"),
        ",": (" ", " ", ","),
        ":": (" ", "▪", "▪"),
        "%": ("o ╱", " ╱ ", "╱ o"),
        "-": ("   ", "╶─╴", "   "),
        "—": ("   ", "╶─╴", "   "),
        " ": (" ", " ", " "),
        "▲": (" ▲ ", "▲▲▲", "   "),
        "◆": (" ◆ ", "◆◆◆", " ◆ "),
    }
)


@lru_cache(maxsize=2048)
def big(text: str) -> tuple[str, str, str]:
    """``text`` as three lines of the same width."""
    lines = ["", "", ""]
    for char in text:
        glyph = _GLYPHS.get(char)
        if glyph is None:
            blank = " " * cell_len(char)
            glyph = (blank, char, blank)
        for row in range(HEIGHT):
            lines[row] += glyph[row]
    return (lines[0], lines[1], lines[2])


def big_width(text: str) -> int:
    return cell_len(big(text)[1])
