"""Empty state for menus whose screens a later release brings: says what is coming, fakes nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView


class PendingView(MenuView):
    TOPICS: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield Static(t(f"about.{self.menu.id}"), classes="about")
        yield Static(t("pending.body"), classes="pending")
