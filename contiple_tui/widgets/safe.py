"""Text from data as renderables that are never markup.

The UI side of :mod:`contiple_tui.safe_text`: every name, phone, SMS text, gateway message or file name a
widget shows goes through :func:`plain` (one line) or :func:`plain_lines` (an SMS body), which clean it
and wrap it in a :class:`rich.text.Text`. Textual renders a ``Text`` as it is; a ``str`` given to
``Static``, ``Label``, a ``DataTable`` cell or ``notify`` would be parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeVar

from rich.cells import cell_len
from rich.text import Text

from ..safe_text import MAX_CHARS, clean

V = TypeVar("V")
Overflow = Literal["fold", "crop", "ellipsis", "ignore"]


def plain(
    value: object,
    *,
    style: str = "",
    max_chars: int | None = MAX_CHARS,
    no_wrap: bool | None = None,
    overflow: Overflow | None = None,
    justify: Literal["left", "center", "right"] | None = None,
    newlines: bool = False,
) -> Text:
    """``value`` cleaned, as one plain ``Text`` (never markup)."""
    return Text(
        clean(value, max_chars, newlines=newlines),
        style=style,
        no_wrap=no_wrap,
        overflow=overflow,
        justify=justify,
        end="",
    )


def plain_lines(value: object, *, style: str = "", max_chars: int | None = MAX_CHARS) -> Text:
    """Like :func:`plain`, keeping line breaks (an SMS body, a multi-line message)."""
    return plain(value, style=style, max_chars=max_chars, newlines=True)


def cut(value: object, width: int) -> str:
    """``value`` cleaned and cut to at most ``width`` terminal cells (wide Hangul and emoji count two),
    ending in "…" when cut."""
    text = clean(value, max(width * 2, 1))
    if cell_len(text) <= width:
        return text
    out = Text(text, end="")
    out.truncate(width, overflow="ellipsis")
    return out.plain


def fit(value: object, width: int, *, style: str = "") -> Text:
    """:func:`cut` as a one-line ``Text``: a table cell that never pushes its column wider."""
    return Text(cut(value, width), style=style, no_wrap=True, end="")


def options(pairs: Iterable[tuple[object, V]], *, max_chars: int = 80) -> list[tuple[Text, V]]:
    """``Select`` options whose prompts come from data: plain ``Text``, one line each."""
    return [
        (plain(prompt, max_chars=max_chars, no_wrap=True, overflow="ellipsis"), value)
        for prompt, value in pairs
    ]


class SafeNotify:
    """App mixin: every toast is plain text. ``notify`` messages often embed data (a phone number, a
    service name, a gateway's message); Textual would parse them as markup, where ``[/x]`` raises and
    ``[@click=app.quit]`` becomes an action. Here message and title are cleaned and never markup."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        super().notify(
            clean(message, newlines=True),
            title=clean(title, 200),  # type: ignore[misc]
            severity=severity,
            timeout=timeout,
            markup=False,
        )


class ItemList:
    """Items joined by ", " that wrap between items, never inside one (``3 반품/교환`` stays whole); an
    item wider than the line is cut with "…". Each item is cleaned text, never markup."""

    def __init__(self, items: list[str], empty: str = "-") -> None:
        self.items = [clean(item, 200) for item in items] or [empty]

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        widest = max(cell_len(item) for item in self.items) + 1
        return Measurement(min(widest, options.max_width), cell_len(", ".join(self.items)))

    def __rich_console__(self, console, options):
        width = max(1, options.max_width)
        lines: list[str] = []
        line = ""
        for index, item in enumerate(self.items):
            piece = item + ("," if index < len(self.items) - 1 else "")
            if cell_len(piece) > width:
                piece = cut(piece, width)
            candidate = f"{line} {piece}" if line else piece
            if line and cell_len(candidate) > width:
                lines.append(line)
                line = piece
            else:
                line = candidate
        lines.append(line)
        yield Text("\n".join(lines), end="")
