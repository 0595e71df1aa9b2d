"""The wallboard on its own (`contiple-tui wallboard`), and kiosk mode for wall TVs (`--kiosk`).

Kiosk: no header, footer or menus; big digits for the headline numbers when the terminal is large
enough; a clock; needs no keyboard; quitting takes Ctrl+Q three times within three seconds. Its
picture changes once a second by default (``refresh``), on the second: the numbers, the waits and the
clock step together, and a TV across the room costs a fraction of a board redrawn on every event.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from contiple_tui.app_base import BaseApp, utc_now
from contiple_tui.config import Config
from contiple_tui.core import wallboard as wb
from contiple_tui.cti.client import CtiClient
from contiple_tui.domain.models import Service
from contiple_tui.i18n import t
from contiple_tui.screens.wallboard import WallboardControls
from contiple_tui.store import Store
from contiple_tui.widgets.key_footer import KeyFooter
from contiple_tui.widgets.safe import cut
from contiple_tui.widgets.textual_gaps import fail_app
from contiple_tui.widgets.wallboard_panel import BoardScope, WallboardPanel

QUIT_PRESSES = 3
QUIT_WINDOW_S = 3.0
HEADLINE_MIN_SIZE = (60, 18)  # a wall TV in a thin terminal still shows the three numbers big
HEADLINE_KEYS = ("waiting", "service_level", "answer_rate")


class WallboardApp(WallboardControls, BaseApp):
    # `text-opacity` is not inherited: the theme's dimming of the stale headline box has to reach the
    # widgets that draw the text.
    CSS = """
    #kiosk-headline.-stale .headline-label, #kiosk-headline.-stale Digits {
        text-opacity: 40%;
    }
    """
    BINDINGS = WallboardControls.BINDINGS + [
        Binding("ctrl+q", "request_quit", "key.quit", id="app.quit", priority=True)
    ]

    def __init__(
        self,
        *,
        store: Store,
        client: CtiClient | None,
        services: list[Service],
        config: Config,
        view: str = "overview",
        interval: float = 5.0,
        kiosk: bool = False,
        per_service: bool = False,
        refresh: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config=config, cti=client, clock=clock)
        if kiosk:
            self.use_command_palette = False  # no way around the deliberate quit sequence
        self.store = store  # the agent detail shows the names the store knows
        self.services = services
        self.view = view
        self.interval = interval
        self.kiosk = kiosk
        # One service per page, in turn (centers with many services): the boards and the headline show
        # the page's service; the page turns with the overview's return to the services board, or every
        # interval when the view is fixed.
        self.per_service = per_service and len(services) > 1
        self.page = 0
        self.monotonic = monotonic
        self.refresh_s = refresh  # > 0: one picture every refresh_s seconds, on the wall clock's beat
        self._frame_handle: asyncio.TimerHandle | None = None
        self._quit_presses: list[float] = []

    def agent_names(self) -> dict[str, str]:
        return {u.cti_agent_id: u.name for u in self.store.users.list() if u.cti_agent_id}

    @property
    def page_services(self) -> list[Service]:
        return [self.services[self.page]] if self.per_service else self.services

    def _title(self) -> Text:
        names = " · ".join(cut(s.name, 40) for s in self.page_services)
        if self.per_service:
            names += f"  ({self.page + 1}/{len(self.services)})"
        return Text(f"{t('group.wallboard')} · {names}", style="bold", no_wrap=True, overflow="ellipsis")

    def compose(self) -> ComposeResult:
        with Horizontal(id="kiosk-top"):
            yield Static(self._title(), id="kiosk-title")
            yield Static(id="kiosk-clock")
        with Horizontal(id="kiosk-headline"):
            for key in HEADLINE_KEYS:
                with Vertical(classes="headline-box"):
                    yield Static(t(f"wb.headline.{key}"), classes="headline-label")
                    yield Digits("—", id=f"headline-{key}")
        yield WallboardPanel(
            self.cti,
            BoardScope.from_services(self.page_services),
            view=self.view,
            interval=self.interval,
            clock=self.monotonic,
            scalable=self.kiosk,
            pace=self.refresh_s,
            id="kiosk-panel",
        )
        if not self.kiosk:
            yield KeyFooter()

    def on_mount(self) -> None:
        self.start_cti()
        width, height = self.size
        self.query_one("#kiosk-headline").display = (
            width >= HEADLINE_MIN_SIZE[0] and height >= HEADLINE_MIN_SIZE[1]
        )
        # Looked up once: the tick must not fail while the app is shutting down and its widgets are gone.
        self._clock_widget = self.query_one("#kiosk-clock", Static)
        self._headline = self.query_one("#kiosk-headline")
        self._digits = {key: self.query_one(f"#headline-{key}", Digits) for key in HEADLINE_KEYS}
        self._panel = self.query_one(WallboardPanel)
        self._headline_version: tuple[int, bool] | None = None
        self._tick()
        if self.refresh_s:
            # A plain event-loop timer in this app's context: the frame must land on the second, and a
            # Textual timer drifts by its callback's time every beat.
            self._frame_context = contextvars.copy_context()
            self._schedule_frame()
        else:
            self.set_interval(0.5, self._tick)
        self._panel.focus()
        if self.per_service and self.view != "overview":
            self.set_interval(self.interval, self.next_page)

    def _schedule_frame(self) -> None:
        pace = self.refresh_s
        delay = pace - time.time() % pace + 0.003  # just past the beat, so the clock shows the new second
        self._frame_handle = asyncio.get_running_loop().call_later(
            delay, self._frame, context=self._frame_context
        )

    def _frame(self) -> None:
        """One picture: the clock, the headline and the board (and its rotation) change together."""
        try:
            self._tick()
            self._panel.tick()
        except Exception as error:  # noqa: BLE001 - as in a Textual handler: the app shows it and exits
            fail_app(self, error)
            return
        self._schedule_frame()

    def on_wallboard_panel_view_changed(self, event: WallboardPanel.ViewChanged) -> None:
        if self.per_service and event.view == "services":
            self.next_page()

    def next_page(self) -> None:
        """The next service's page (per_service)."""
        self.page = (self.page + 1) % len(self.services)
        panel = self._panel
        panel.scope = BoardScope.from_services(self.page_services)
        panel.invalidate()
        self.query_one("#kiosk-title", Static).update(self._title())
        self._headline_version = None  # the headline is the page's

    def on_resize(self, event) -> None:
        width, height = event.size
        self.query_one("#kiosk-headline").display = (
            width >= HEADLINE_MIN_SIZE[0] and height >= HEADLINE_MIN_SIZE[1]
        )

    def _tick(self) -> None:
        zone = ZoneInfo(self.services[0].timezone if self.services else "Asia/Seoul")
        clock = self.clock().astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        clock_widget = self._clock_widget
        shown = getattr(clock_widget, "_shown", None)
        if shown != clock:  # two ticks a second, one new text
            clock_widget._shown = clock  # type: ignore[attr-defined]
            # Same width as before (always, once it is shown): no layout of the whole screen each second.
            clock_widget.update(clock, layout=shown is None or len(shown) != len(clock))
        client = self.cti
        live = client is not None and client.boards_live
        version = (client.model.version, client.model.has_data) if client is not None else None
        if version != self._headline_version:  # the headline numbers do not depend on the time
            self._headline_version = version
            values = {"waiting": "—", "service_level": "—", "answer_rate": "—"}
            if client is not None and client.model.has_data:
                codes = [s.code for s in self.page_services]
                rows = wb.service_rows(client.model, codes, {}, client.server_now())
                if rows:
                    total = wb.service_totals(rows, client.model)
                    values = {
                        "waiting": str(total.waiting),
                        "service_level": wb.format_rate(total.service_level).rstrip("%"),
                        "answer_rate": wb.format_rate(total.answer_rate).rstrip("%"),
                    }
            for key, value in values.items():
                digits = self._digits[key]
                if digits.value != value:
                    digits.update(value)
        self._headline.set_class(not live, "-stale")

    async def action_request_quit(self) -> None:
        if not self.kiosk:
            await self.action_quit()
            return
        now = self.monotonic()
        self._quit_presses = [p for p in self._quit_presses if now - p <= QUIT_WINDOW_S] + [now]
        left = QUIT_PRESSES - len(self._quit_presses)
        if left <= 0:
            await self.action_quit()
        else:
            self.notify(t("wb.kiosk.quit_hint", count=left), timeout=QUIT_WINDOW_S)

    async def on_unmount(self) -> None:
        if self._frame_handle is not None:
            self._frame_handle.cancel()
        await self.stop_cti()
