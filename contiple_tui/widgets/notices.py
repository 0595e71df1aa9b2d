"""The console service's notices on screen (core/console.py says what is news and paces it).

Each notice is a toast; news also rings the bell and raises a desktop notification when the
configuration asks for them. A "new callback" notice the service holds back is asked for again when it
falls due.
"""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from textual.app import App
from textual.timer import Timer

from contiple_tui.config import Config
from contiple_tui.core.console import Notice
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.widgets.textual_gaps import write_to_terminal


class ConsoleNotices:
    def __init__(self, app: App, config: Config) -> None:
        self.app = app
        self.config = config
        self._held: Timer | None = None  # a held-back notice is due then

    def show(self, notice: Notice) -> None:
        """A toast, and for news the bell and a desktop notification when the configuration asks for
        them. Also called from worker threads (a request the store refused): ``notify`` is thread-safe."""
        app = self.app
        title = t("brand.notification") if notice.alert else ""
        app.notify(notice.message, title=title, severity=notice.severity, timeout=notice.timeout)
        if not notice.alert:
            return
        if self.config.bell:
            app.bell()
        if self.config.desktop_notifications:
            text = "".join(ch for ch in clean(notice.message) if ch.isprintable())
            # OSC 777 and OSC 9: desktop notifications many terminals show, even over SSH.
            write_to_terminal(app, f"\x1b]777;notify;Contiple;{text}\x07\x1b]9;{text}\x07")

    def hold(self, wait: float | None, again: Callable[[], float | None]) -> None:
        """A notice held back for ``wait`` seconds (None: none is): ``again`` then shows it, or holds it
        once more. One timer at a time: the service keeps what is held."""
        if wait is not None and self._held is None:
            self._held = self.app.set_timer(wait, lambda: self._due(again))

    def _due(self, again: Callable[[], float | None]) -> None:
        self._held = None
        self.hold(again(), again)


# The kinds of store fault already said per console, until the store answers again.
_FAULTS_SAID: WeakKeyDictionary[App, set[str]] = WeakKeyDictionary()


def say_store_fault(app: App, exc: ContipleError) -> bool:
    """A fault of the store (a full disk, the database server away) in a toast, once per kind however
    many polls and re-reads meet it, until :func:`store_answered`. On the UI thread. True when said."""
    said = _FAULTS_SAID.setdefault(app, set())
    if exc.key in said:
        return False
    said.add(exc.key)
    app.notify(exc.message(), severity="error")
    return True


def store_answered(app: App) -> None:
    """The store was read again: a new fault is news."""
    _FAULTS_SAID.pop(app, None)
