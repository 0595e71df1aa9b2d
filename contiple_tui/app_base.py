"""What the console (app.py) and the stand-alone wallboard (kiosk.py) share, so they cannot drift:
the stylesheet and themes (built-in and from files; an unknown theme is refused with the known names),
the keymap (every id checked against one set of the ids a keymap may name: both read one configuration
file), the clock, the CTI client started once, and the bell when a value turns critical."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding

from contiple_tui.config import Config
from contiple_tui.cti.client import CtiClient
from contiple_tui.errors import ConfigError
from contiple_tui.themes import BUILTIN_THEMES, DEFAULT_VARIABLES, load_theme_file
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.safe import SafeNotify
from contiple_tui.widgets.wallboard_panel import WallboardPanel

# The console's own keys (the kiosk has app.quit too, with its own action).
CONSOLE_BINDINGS = [
    Binding("ctrl+q", "quit", "key.quit", id="app.quit", priority=True),
    Binding("f1", "toggle_help", "key.help", id="app.help"),
    Binding("f2", "switch_service", "key.switch_service", id="app.switch_service"),
    Binding("f3", "toggle_nav", "key.toggle_nav", id="app.toggle_nav"),
    Binding("ctrl+p", "command_palette", "key.palette", id="app.palette", priority=True, show=False),
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def all_binding_ids() -> set[str]:
    """Every binding id a keymap may name: the console's own keys and those of every class in the
    screens and widgets packages (found there, so a new screen's keys cannot be forgotten here)."""
    import importlib
    import inspect
    import pkgutil

    import contiple_tui.screens
    import contiple_tui.widgets

    ids = {binding.id for binding in CONSOLE_BINDINGS if binding.id}
    for package in (contiple_tui.screens, contiple_tui.widgets):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                for klass in cls.__mro__:  # its own BINDINGS and those it inherits (TableView's Tab, ...)
                    for binding in klass.__dict__.get("BINDINGS", ()):
                        if isinstance(binding, Binding) and binding.id:
                            ids.add(binding.id)
    return ids


class BaseApp(SafeNotify, Localized, App[None]):
    CSS_PATH = Path(__file__).parent / "themes" / "app.tcss"

    def __init__(
        self, *, config: Config, cti: CtiClient | None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__()
        self.config = config
        self.cti = cti
        self.clock = clock
        for theme in BUILTIN_THEMES:
            self.register_theme(theme)
        for path in config.theme_files:
            self.register_theme(load_theme_file(path))
        if config.theme not in self.available_themes:
            known = ", ".join(sorted(n for n in self.available_themes if n != "textual-ansi"))
            raise ConfigError("err.theme_unknown", theme=config.theme, known=known)
        self.theme = config.theme
        # Only with a keymap to check: finding every id imports every screen (the kiosk would not).
        known = all_binding_ids() if config.keymap else set()
        for binding_id in config.keymap:
            if binding_id not in known:
                raise ConfigError(
                    "err.keymap_unknown",
                    file=str(config.config_file),
                    key=f"keymap.{binding_id}",
                    known=", ".join(sorted(known)),
                )
        self.set_keymap(config.keymap)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    SETTLE_LIMIT_S = 2.0

    def composing(self) -> bool:
        """A widget on screen is still being composed (a menu just opened, a dialog just pushed)."""
        return not all(widget.is_mounted for widget in self.screen.walk_children())

    async def action_quit(self) -> None:
        """Quit once nothing is being composed (at most SETTLE_LIMIT_S): a screen taken down under a
        widget still composing fails that widget's mount handlers, a traceback on the way out. The wait
        runs beside the app's message loop, which must go on: it runs what is being composed."""
        self.run_worker(self._quit_when_composed(), group="quit", exclusive=True)

    async def _quit_when_composed(self) -> None:
        deadline = time.monotonic() + self.SETTLE_LIMIT_S
        while self.composing() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.exit()

    def start_cti(self) -> None:
        """Start the CTI client unless it runs already (tests and the demo hand over a started one)."""
        if self.cti is not None and not self.cti.started:
            self.cti.start()

    async def stop_cti(self) -> None:
        if self.cti is not None:
            await self.cti.stop()

    @on(WallboardPanel.TurnedCritical)
    def _critical(self) -> None:
        if self.config.bell:
            self.bell()
