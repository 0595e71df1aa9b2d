"""The console: its frame (screens/console_shell.py: header, navigation of the menus this user may see,
one view per menu, footer) wired to the store's changes, the CTI feed and the console's own keys.

The app only presents; every rule and every query lives in the headless core and store, which the
app receives ready-made (so tests build it with a temporary store and a frozen clock).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.screen import Screen

from contiple_tui.app_base import CONSOLE_BINDINGS, BaseApp, utc_now
from contiple_tui.config import Config
from contiple_tui.core.console import ConsoleService
from contiple_tui.core.dialer import CallbackDialer
from contiple_tui.core.feed_intake import TICK_S as FEED_TICK_S
from contiple_tui.core.feed_intake import FeedIntake, Point, stored_position
from contiple_tui.core.session import Session
from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.i18n import t
from contiple_tui.screens.base import ViewContext
from contiple_tui.screens.cheat_sheet import CheatSheet
from contiple_tui.screens.console_shell import ConsoleShell
from contiple_tui.screens.exports import Exports
from contiple_tui.screens.live_refresh import LiveRefresh
from contiple_tui.screens.messages import DialRequested, ExportRequested
from contiple_tui.widgets.bindings import localize_bindings
from contiple_tui.widgets.notices import ConsoleNotices

SMS_REFRESH_S = 30.0  # how often a console brings its service's open SMS sends up to date


class ContipleApp(BaseApp):
    TITLE = "Contiple"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = CONSOLE_BINDINGS

    def __init__(
        self,
        *,
        session: Session,
        config: Config,
        clock: Callable[[], datetime] = utc_now,
        cti: CtiClient | None = None,
    ) -> None:
        # The CTI feed: given (tests, demo) or from the configured address; None when not configured.
        if cti is None and config.cti_url:
            cti = CtiClient(
                config.cti_url,
                token=config.cti_token,
                user=session.user.login,
                resume_from=stored_position(session.store),
            )
        super().__init__(config=config, cti=cti, clock=clock)
        self.store = session.store
        self.session = session
        self.exit_message: str | None = None
        self.dialer = CallbackDialer(session, cti, self._notify_from_core)
        self.exports = Exports(self, session, config, clock)
        self.notices = ConsoleNotices(self, config)  # toasts, the bell, desktop notifications
        # Intake, the feed position, news, SMS refresh, the badge, the theme: headless (core/console.py).
        self.console_service = ConsoleService(session, cti, on_notice=self.notices.show)
        if not config.theme_chosen:  # nothing set it: the theme this user last picked in the palette
            picked = self.console_service.picked_theme()
            if picked in self.available_themes:
                self.theme = picked
        self._theme_at_start = self.theme

    # -- set-up -------------------------------------------------------------------------------

    def _remember_theme(self, theme) -> None:
        self.console_service.remember_theme(getattr(theme, "name", None) or "", self._theme_at_start)

    @property
    def feed(self) -> FeedIntake | None:
        return self.console_service.feed

    def compose(self) -> ComposeResult:
        context = ViewContext(self.clock, self.config, self.cti)
        self.shell = ConsoleShell(self.session, context, on_board=self.console_service.board_on_screen)
        self.live = LiveRefresh(
            self, self.console_service, self.shell, self.notices, signed_out=self._signed_out
        )
        yield self.shell

    def on_mount(self) -> None:
        localize_bindings(self.screen)  # the default screen's keys (tab, copy…) in the user's language
        if self.cti is not None:
            self.cti.subscribe(self._on_cti)
            self.shell.show_link(self.cti, self.cti.state)
            self.cti.want_boards(False)  # the first menu says otherwise when it is a board
            self.start_cti()
        self.shell.rebuild_menus()
        self.live.update_badge()
        self.set_interval(self.config.refresh_seconds, self.check_store_changes)
        if self.cti is not None:
            self.set_interval(FEED_TICK_S, self._feed_tick)
            self._feed_tick()  # the first console takes the lease at once, not a tick later
        self.set_interval(SMS_REFRESH_S, self._refresh_sms)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.shell.nav.focus()
        if not self.is_headless:  # not under tests: one process runs hundreds of apps there
            self.call_after_refresh(_freeze_startup_objects)

    @work(thread=True, exclusive=True, group="sms-refresh", exit_on_error=False)
    def _refresh_sms(self) -> None:
        """Reservations fall due and NHN statuses move on whether or not the history is open."""
        from contiple_tui.sms.factory import gateway_by_name

        self.console_service.refresh_sms(
            lambda service, name: gateway_by_name(self.config.sms, service, name)
        )

    # -- menus and views (screens/console_shell.py) -------------------------------------------

    def show_menu(self, menu_id: str, focus: bool = True) -> None:
        self.shell.show_menu(menu_id, focus)

    @property
    def current_menu_id(self) -> str | None:
        return self.shell.current_menu_id

    @property
    def reloads(self) -> int:
        """Views reloaded because the store changed (diagnostics, benchmarks)."""
        return self.shell.reloads

    # -- CTI ----------------------------------------------------------------------------------

    def _notify_from_core(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity)  # type: ignore[arg-type]

    def _on_cti(self, client: CtiClient, what: object) -> None:
        taken = self.console_service.received(client, what)  # every console keeps a request for a takeover
        if taken is not None:  # this one holds the lease: it takes the request in now
            self._intake(*taken)
        if isinstance(what, LinkState):
            self.shell.show_link(client, what)

    @work(thread=True, group="intake", exit_on_error=False)
    def _intake(self, key: tuple[str, int], data: dict, point: Point) -> None:
        self.console_service.take_in(key, data, point)

    def _feed_tick(self) -> None:
        """Every 2 seconds: the feed narrows once no board was on screen for a while, and the lease
        holder's work (or the others' watch on the lease) runs in a worker."""
        self.console_service.narrow_feed()
        if self.console_service.feed is not None:
            self._run_feed_tick(self.console_service.feed_point())

    @work(thread=True, group="intake-tick", exit_on_error=False)
    def _run_feed_tick(self, point: Point) -> None:
        self.console_service.feed_tick(point)

    def _save_position(self) -> None:
        self.console_service.save_position()

    # -- what views ask for (screens/messages.py) ---------------------------------------------

    @on(ExportRequested)
    def _export_requested(self, message: ExportRequested) -> None:
        self.exports.requested(message)

    @on(DialRequested)
    def _dial_requested(self, message: DialRequested) -> None:
        self.dialer.connect(message.callback)

    # -- live data (screens/live_refresh.py) --------------------------------------------------

    def check_store_changes(self) -> None:
        """Poll PRAGMA data_version: another console's commit shows here within a refresh period."""
        self.live.check()

    def _signed_out(self, message: str) -> None:
        """The user was disabled or removed while signed in: the console ends, saying why."""
        self.exit_message = message
        self.call_next(self.action_quit)

    # -- actions ------------------------------------------------------------------------------

    def action_toggle_help(self) -> None:
        if isinstance(self.screen, CheatSheet):
            self.screen.dismiss(None)
            return
        view = self.shell.visible_view if self.screen is self.shell.screen else None
        self.push_screen(CheatSheet.of(self.screen, view, self.get_key_display))

    def action_toggle_nav(self) -> None:
        self.shell.toggle_nav()

    def composing(self) -> bool:
        return self.shell.rebuilding or super().composing()

    def action_help_quit(self) -> None:
        self.notify(t("app.quit_hint"), title=t("key.quit"))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=t("palette.placeholder")))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_service":
            return len(self.session.services) > 1  # nothing to switch to: hide the key
        return True

    def action_switch_service(self) -> None:
        self.shell.switch_service()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every menu (the shell's), then the console's own commands."""
        yield from self.shell.menu_commands()
        if len(self.session.services) > 1:
            yield SystemCommand(
                t("key.switch_service"), t("palette.switch_service"), self.action_switch_service
            )
        yield SystemCommand(t("palette.theme"), t("palette.theme_help"), self.action_change_theme)
        yield SystemCommand(t("key.help"), t("palette.help"), self.action_toggle_help)
        yield SystemCommand(t("key.quit"), t("palette.quit"), self.action_quit)

    async def on_unmount(self) -> None:
        self.console_service.close()
        await self.stop_cti()
        self.console_service.write_stats(self.reloads)


def _freeze_startup_objects() -> None:
    """Once the console is up: the objects of the start (modules, widgets, styles) move out of the garbage
    collector's sight, so its full collections stay short (a 55-67 ms pause about every 17 page downs
    before, 9-10 ms after) and cost an idle console less."""
    gc.collect()
    gc.freeze()
