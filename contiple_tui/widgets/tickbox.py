"""A check box whose mark is drawn only when it is on: readable without colour (NO_COLOR, 16 colours).

Textual's Checkbox draws its X in both states and tells them apart by colour alone.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 - Textual's name
        return "X" if self.value else " "
