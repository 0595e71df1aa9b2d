"""The footer of keys, fitted to the terminal's width.

Textual's footer scrolls sideways and cuts its last label where the width ends (`^p   령`). This one
keeps whole keys only: the focused widget's first, then its view's, then the console's, and drops the
rest; F1 (the cheat sheet, which lists every key) is kept whatever the width.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEPT_ACTIONS = frozenset({"toggle_help"})


def key_width(key: FooterKey) -> int:
    """The cells a footer key takes: " key description " and the command palette key's border."""
    width = cell_len(key.key_display) + 2
    if key.description:
        width += cell_len(key.description) + 1
    if key.has_class("-command-palette"):
        width += 1  # its border on the left (its right padding is the description's)
    return width


def fit_keys(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys that fit in ``width`` cells, in their order; the kept ones first in line for room."""
    room = width - sum(key_width(k) for k in keys if k.action in KEPT_ACTIONS)
    shown = []
    for key in keys:
        if key.action in KEPT_ACTIONS:
            shown.append(key)
        elif key_width(key) <= room:
            shown.append(key)
            room -= key_width(key)
        else:
            room = -1  # the keys after a dropped one go too: the order is the priority
    return shown


class KeyFooter(Footer):
    """Textual's footer, dropping the keys that do not fit instead of cutting the last label."""

    _fitted_width: int | None = None

    def compose(self) -> ComposeResult:
        items = list(super().compose())  # only FooterKey: no binding of ours is in a group
        palette = [item for item in items if item.has_class("-command-palette")]
        keys = [item for item in items if isinstance(item, FooterKey) and item not in palette]
        width = (self.size.width or self.app.size.width) - sum(key_width(k) for k in palette)
        yield from fit_keys(keys, width)
        yield from palette

    def _on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_width:
            self._fitted_width = event.size.width
            self.call_after_refresh(self.recompose)
