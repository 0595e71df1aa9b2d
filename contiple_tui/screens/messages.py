"""What a view asks of the app, as Textual messages: they bubble from the view up to the app, which
owns the exports folder, the progress screen and the CTI dialer. A view posts; it never looks the app's
methods up."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widget import Widget

from contiple_tui.core.callbacks import Callback


class ExportRequested(Message):
    """An Excel file of what ``view`` shows, to the exports folder with a progress screen.

    ``kind`` is ``"callbacks"`` (``args``: the list's CallbackQuery), ``"callback-status"`` (first day,
    last day, monthly) or ``"sms-history"`` (the history's HistoryFilter)."""

    def __init__(self, view: Widget, kind: str, *args: Any) -> None:
        super().__init__()
        self.view = view
        self.kind = kind
        self.args = args

    @property
    def control(self) -> Widget:
        return self.view


class DialRequested(Message):
    """Connect ``callback`` through the CTI (the app's dialer says what happens on screen)."""

    def __init__(self, view: Widget, callback: Callback) -> None:
        super().__init__()
        self.view = view
        self.callback = callback

    @property
    def control(self) -> Widget:
        return self.view
