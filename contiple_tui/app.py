"""The console: header, navigation of the menus this user may see, one view per menu, footer.

The app only presents; every rule and every query lives in the headless core and store, which the
app receives ready-made (so tests build it with a temporary store and a frozen clock).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher, OptionList

from contiple_tui.config import Config
from contiple_tui.core import callbacks as cb
from contiple_tui.core.dialer import CallbackDialer
from contiple_tui.core.feed_intake import POSITION_KEY, FeedIntake, Point, stored_position  # noqa: F401 - imported from here too
from contiple_tui.core.feed_intake import TICK_S as FEED_TICK_S
from contiple_tui.core.session import Session
from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.cti.protocol import Event, EventMessage
from contiple_tui.domain import permissions
from contiple_tui.domain.menus import MENU_BY_ID, Menu, visible_menus
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ConfigError, ContipleError, IdentityError
from contiple_tui.i18n import both, get_language, t
from contiple_tui.safe_text import clean
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.callback_assign import CallbackAssignView
from contiple_tui.screens.callback_list import CallbackListView
from contiple_tui.screens.callback_status import CallbackStatusView
from contiple_tui.screens.callback_unassign import CallbackUnassignView
from contiple_tui.screens.cheat_sheet import CheatSheet, sheet_lines
from contiple_tui.screens.export_progress import ExportScreen
from contiple_tui.screens.home import HomeView
from contiple_tui.screens.pending import PendingView
from contiple_tui.screens.service_switch import ServiceSwitchScreen
from contiple_tui.screens.sms_compose import SmsComposeView
from contiple_tui.screens.sms_history import SmsHistoryView
from contiple_tui.screens.sms_preview import SmsPreviewScreen
from contiple_tui.screens.sms_templates import SmsTemplatesView
from contiple_tui.screens.wallboard import VIEW_OF_MENU, WallboardView, wallboard_argv
from contiple_tui.themes import BUILTIN_THEMES, DEFAULT_VARIABLES, load_theme_file
from contiple_tui.widgets.bindings import Localized, localize_bindings
from contiple_tui.widgets.header import ConsoleHeader
from contiple_tui.widgets.key_footer import KeyFooter
from contiple_tui.widgets.nav import NavMenu
from contiple_tui.widgets.safe import SafeNotify
from contiple_tui.widgets.wallboard_panel import WallboardPanel

log = logging.getLogger(__name__)
# Below this width a board or list takes the menu's columns too (F3 brings the menu back): the callback
# list needs about 115 for every column whole (IVR names, status words and headers, in English).
WIDE_ENOUGH_FOR_NAV = 130
# New callbacks are toasted at most this often: a request slower than that gets its own toast; a busy
# stream one toast with its count and the latest every NEW_TOAST_S (each toast mounts and lays out the
# screen twice: at one request a second, toasts every 5 s were half of an idle admin console's CPU).
NEW_TOAST_S = 15.0
NEW_TOAST_SHOWN_S = 5.0  # how long one is shown
SMS_REFRESH_S = 30.0  # how often a console brings its service's open SMS sends up to date
VIEW_CLASSES: dict[str, type[MenuView]] = (
    {
        "home": HomeView,
        "callback_list": CallbackListView,
        "callback_assign": CallbackAssignView,
        "callback_unassign": CallbackUnassignView,
        "callback_status": CallbackStatusView,
    }
    | {"sms_compose": SmsComposeView}
    | {"sms_templates": SmsTemplatesView}
    | {"sms_history": SmsHistoryView}
    | {m: WallboardView for m in VIEW_OF_MENU}
)
FULL_WIDTH_GROUPS = (
    "wallboard",
    "callbacks",
    "sms",
)  # boards and lists want every column of a narrow terminal
# After a board left the screen, the feed keeps the boards' events this long (back and forth is free),
# then narrows to what the other views use (CtiClient.want_boards: a fraction of the frames).
BOARD_EVENTS_KEPT_S = 10.0


def _now() -> datetime:
    return datetime.now(UTC)


class ContipleApp(SafeNotify, Localized, App[None]):
    TITLE = "Contiple"
    CSS_PATH = Path(__file__).parent / "themes" / "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "key.quit", id="app.quit", priority=True),
        Binding("f1", "toggle_help", "key.help", id="app.help"),
        Binding("f2", "switch_service", "key.switch_service", id="app.switch_service"),
        Binding("f3", "toggle_nav", "key.toggle_nav", id="app.toggle_nav"),
        Binding("ctrl+p", "command_palette", "key.palette", id="app.palette", priority=True, show=False),
    ]

    def __init__(
        self,
        *,
        session: Session,
        config: Config,
        clock: Callable[[], datetime] = _now,
        cti: CtiClient | None = None,
    ) -> None:
        super().__init__()
        self.store = session.store
        self.session = session
        self.config = config
        self.clock = clock
        self.exit_message: str | None = None
        self._nav_auto_hidden = False
        self._board_left_at: float | None = None  # monotonic time the last board left the screen
        self._header: ConsoleHeader | None = None
        self._nav: NavMenu | None = None
        self._switcher: ContentSwitcher | None = None
        self._watcher = self.store.watcher()
        # The CTI feed: given (tests, demo) or from the configured address; None when not configured.
        if cti is None and config.cti_url:
            cti = CtiClient(
                config.cti_url,
                token=config.cti_token,
                user=session.user.login,
                resume_from=stored_position(self.store),
            )
        self.cti = cti
        self.wallboard_interval = config.wallboard_interval
        self.dialer = CallbackDialer(session, cti, self._notify_from_core)
        # Notifications: what was already there at start is not news.
        self._seen_callback = self.store.callbacks.last_callback_id()
        self._seen_history = self.store.callbacks.last_history_id()
        # New callbacks not toasted yet (at most one toast per NEW_TOAST_S), and the latest of them.
        self._unannounced = 0
        self._latest_new: tuple[int, int, str] | None = None
        self._last_new_toast = -NEW_TOAST_S
        self._new_toast_timer = None
        # Callback requests from the feed into the store and the feed position: by the one console of the
        # data directory that holds the intake lease (core/feed_intake.py); the others keep what they
        # receive for a takeover and only read.
        self.feed = FeedIntake(self.store, on_refused=self._intake_failed) if cti is not None else None
        self.reloads = 0  # views reloaded because the store changed (diagnostics, benchmarks)
        self._store_fault: str | None = None  # the last store fault said by check_store_changes
        for theme in BUILTIN_THEMES:
            self.register_theme(theme)
        for path in config.theme_files:
            self.register_theme(load_theme_file(path))
        if config.theme not in self.available_themes:
            known = ", ".join(sorted(n for n in self.available_themes if n != "textual-ansi"))
            raise ConfigError("err.theme_unknown", theme=config.theme, known=known)
        self.theme = config.theme
        if not config.theme_chosen:  # nothing set it: the theme this user last picked in the palette
            picked = self._picked_theme()
            if picked in self.available_themes:
                self.theme = picked
        self._theme_at_start = self.theme
        self._apply_keymap(config.keymap)

    # -- set-up -------------------------------------------------------------------------------

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        known = all_binding_ids()
        for binding_id in keymap:
            if binding_id not in known:
                raise ConfigError(
                    "err.keymap_unknown",
                    file=str(self.config.config_file),
                    key=f"keymap.{binding_id}",
                    known=", ".join(sorted(known)),
                )
        self.set_keymap(keymap)

    # -- the theme picked in the palette, remembered per user (a meta row: no view reloads for it) --

    def _theme_key(self) -> str:
        return f"ui.theme.{self.session.user.login}"

    def _picked_theme(self) -> str | None:
        try:
            return self.store.get_meta(self._theme_key())
        except ContipleError:
            return None  # a store fault is said elsewhere; the default theme will do

    def _remember_theme(self, theme) -> None:
        name = getattr(theme, "name", None)
        picked = self._picked_theme()
        if not name or name == picked or (picked is None and name == self._theme_at_start):
            return  # nothing new (the start's own theme is no pick)
        try:
            self.store.db.run_write(lambda conn: self.store.set_meta(conn, self._theme_key(), name))
        except ContipleError as exc:  # e.g. the disk is full: the pick holds for this session
            log.warning("theme not remembered: %s", exc)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(self.session, self.clock, id="header")
        with Horizontal(id="body"):
            yield NavMenu(id="nav")
            yield ContentSwitcher(id="content")
        yield KeyFooter()

    def on_mount(self) -> None:
        localize_bindings(self.screen)  # the default screen's keys (tab, copy…) in the user's language
        self._header = self.query_one(ConsoleHeader)
        # Kept: the change poll uses them on every change, and a query walks the whole screen.
        self._nav = self.query_one(NavMenu)
        self._switcher = self.query_one(ContentSwitcher)
        if self.cti is not None:
            self.cti.subscribe(self._on_cti)
            self._header.set_cti_state(self.cti.state)
            self.cti.want_boards(False)  # the first menu says otherwise when it is a board
            if self.cti._task is None:
                self.cti.start()
        self.rebuild_menus()
        self._update_badge()
        self.set_interval(self.config.refresh_seconds, self.check_store_changes)
        if self.cti is not None:
            self.set_interval(FEED_TICK_S, self._feed_tick)
            self._feed_tick()  # the first console takes the lease at once, not a tick later
        self.set_interval(SMS_REFRESH_S, self._refresh_sms)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.query_one(NavMenu).focus()
        if not self.is_headless:  # not under tests: one process runs hundreds of apps there
            self.call_after_refresh(_freeze_startup_objects)

    @work(thread=True, exclusive=True, group="sms-refresh", exit_on_error=False)
    def _refresh_sms(self) -> None:
        """Reservations fall due and NHN statuses move on whether or not the history is open."""
        from contiple_tui.core import sms
        from contiple_tui.sms.factory import gateway_by_name

        session = self.session
        if not permissions.may_view_sms(session.user, session.service):
            return
        sms.refresh(
            session.store,
            lambda service, name: gateway_by_name(self.config.sms, service, name),
            [session.service],
        )

    # -- menus and views ----------------------------------------------------------------------

    @property
    def menus(self) -> list[Menu]:
        return visible_menus(self.session.user, self.session.service)

    def rebuild_menus(self) -> None:
        """After start, a service switch or a change of the user's rights: menus and views anew, showing
        the same menu (Home when the new menus lack it), with the focus in it."""
        current = self.current_menu_id
        menus = self.menus
        self.query_one(NavMenu).set_menus(menus)
        switcher = self.query_one(ContentSwitcher)
        ids = [m.id for m in menus]
        target = current if current in ids else "home"
        if not switcher.children:
            self.show_menu(target, focus=False)  # the start: the menu keeps the focus
            return
        # The old views go first: until they are gone a new view could not take their ids, and showing
        # the old one then would leave the content area empty once it is removed.
        removal = switcher.remove_children()

        async def show_when_removed() -> None:
            await removal
            self.show_menu(target)

        self.call_next(show_when_removed)

    @property
    def current_menu_id(self) -> str | None:
        current = self.query_one(ContentSwitcher).current
        return current.removeprefix("view-") if current else None

    def show_menu(self, menu_id: str, focus: bool = True) -> None:
        """Show a menu's view (however it was asked for: the menu, the palette, a service switch) and,
        once it is composed, give the focus to its primary widget."""
        menu = MENU_BY_ID[menu_id]
        if not menu.visible(self.session.user, self.session.service):
            self.notify(t("err.menu_hidden", menu=t(f"menu.{menu_id}")), severity="warning")
            return
        switcher = self.query_one(ContentSwitcher)
        view_id = f"view-{menu_id}"
        existing = switcher.query(f"#{view_id}")
        if not existing:
            view_cls = VIEW_CLASSES.get(menu_id, PendingView)
            switcher.mount(view_cls(menu, self.session))
        switcher.current = view_id
        if existing:
            view = existing.first(MenuView)
            if view.stale:  # its data changed while it was hidden
                view.stale = False
                self._reload_view(view)
        self._board_on_screen(menu.group == "wallboard")
        nav = self.query_one(NavMenu)
        nav.select_menu(menu_id)
        # A wallboard needs the whole width of a narrow terminal: the menu steps aside (F3 brings it
        # back) and returns by itself on the next menu.
        if menu.group in FULL_WIDTH_GROUPS and self.size.width < WIDE_ENOUGH_FOR_NAV:
            # Still stepped aside from an earlier board or list: it still returns by itself.
            self._nav_auto_hidden = self._nav_auto_hidden or nav.display
            nav.display = False
        elif self._nav_auto_hidden:
            nav.display = True
            self._nav_auto_hidden = False
        if focus:
            # After the view is composed: its keys work at once; Tab or Shift+Tab returns to the menu.
            self.call_after_refresh(self.focus_view)

    @on(MenuView.FocusWhileHidden)
    def _focus_while_hidden(self) -> None:
        self.call_after_refresh(self.focus_view)

    @on(OptionList.OptionSelected, "#nav")
    def _nav_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.show_menu(event.option.id)

    def focus_view(self, tries: int = 10) -> None:
        """The focus to the visible view's primary widget; to the menu when the view has none (Home). A
        hidden view never keeps it (MenuView hands it on here)."""
        switcher, nav = self._switcher, self._nav
        if not self.is_running or not self.screen_stack:
            return  # closing
        if switcher is None or nav is None or self.screen is not switcher.screen:
            return  # a dialog is open: it has the keys (the focus comes back to the view when it closes)
        view = switcher.visible_content
        if not isinstance(view, MenuView):
            return
        focused = self.screen.focused
        if focused is not None and view in focused.ancestors:
            return  # already in it (the user clicked or tabbed in meanwhile, or opened a dropdown)
        target = view.focus_target
        if target is not None:
            target.focus()
        elif tries:
            self.set_timer(0.05, lambda: self.focus_view(tries - 1))  # still being composed
        elif nav.display:  # nothing to focus in it (Home): the menu
            nav.focus()

    # -- CTI -----------------------------------------------------------------------------------

    def _notify_from_core(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity)  # type: ignore[arg-type]

    def _on_cti(self, client: CtiClient, what: object) -> None:
        if (
            isinstance(what, EventMessage)
            and what.event is Event.CALLBACK_REQUESTED
            and client.epoch is not None
        ):
            # Every console keeps the request for a takeover; the lease holder takes it in now.
            if self.feed is not None and self.feed.received(client.epoch, what.seq, what.data):
                self._intake((client.epoch, what.seq), what.data, self.feed_point())
        # The header lives on the base screen, which may sit under a dialog.
        header = self._header
        if isinstance(what, LinkState) and header is not None and header.is_mounted and self.is_running:
            try:
                header.set_cti_state(what)
            except NoMatches:  # the app is closing
                pass

    @work(thread=True, group="intake", exit_on_error=False)
    def _intake(self, key: tuple[str, int], data: dict, point: Point) -> None:
        """The lease holder takes a CTI callback request in; the store keeps each request exactly once.

        The feed position moves past a request only once it is committed (or refused by a rule:
        unknown service, callback feature off). A request the store cannot take (disk full, damaged…)
        stays pending with its data: the position stays before it, the failure is logged and shown,
        and the periodic tick tries it again until the store takes it (docs/cti-protocol.md, "Feed
        position")."""
        if self.feed is not None:
            self.feed.take_in(key, data, point)

    def _intake_failed(self, data: dict, exc: Exception) -> None:
        """A toast, once per refused request, for those who receive intake notifications."""
        service = next((s for s in self.session.services if s.code == data.get("service")), None)
        if service is not None and permissions.receives_intake_notifications(self.session.user, service):
            error = exc.message() if isinstance(exc, ContipleError) else type(exc).__name__
            self.notify(
                t("feed.intake_failed", request=clean(data.get("request_id", "?"), 80), error=error),
                severity="error",
                timeout=30,
            )

    def feed_point(self) -> Point:
        """(epoch, seq) this console's feed has applied up to (read on the UI thread, where it moves)."""
        client = self.cti
        return (client.epoch, client.model.seq) if client is not None else (None, None)

    def _board_on_screen(self, shown: bool) -> None:
        """Boards need every event of the feed; the other views only some (see BOARD_EVENTS_KEPT_S)."""
        if self.cti is None:
            return
        if shown:
            self._board_left_at = None
            self.cti.want_boards(True)
        elif self._board_left_at is None:  # (narrowing twice is nothing: want_boards sees it is so)
            self._board_left_at = time.monotonic()

    def _feed_tick(self) -> None:
        """Every 2 seconds: the lease holder renews its lease and saves the position, then retries what the
        store refused; the others read the lease and take it over when its holder is gone. And the feed
        narrows once no board was on screen for a while."""
        left = self._board_left_at
        if self.cti is not None and left is not None and time.monotonic() - left >= BOARD_EVENTS_KEPT_S:
            self._board_left_at = None
            self.cti.want_boards(False)
        if self.feed is not None:
            self._run_feed_tick(self.feed_point())

    @work(thread=True, group="intake-tick", exit_on_error=False)
    def _run_feed_tick(self, point: Point) -> None:
        if self.feed is not None:
            self.feed.tick(point)

    def _save_position(self) -> None:
        """Now, on this thread: the lease holder renews its lease and saves the feed position (never past
        a request of the current epoch that is not in the store yet); nothing for the other consoles. A
        store fault leaves it for the next tick."""
        if self.feed is None:
            return
        try:
            self.feed.save_position(self.feed_point())
        except ContipleError as exc:  # e.g. the disk is full: kept for the next tick, the console stays up
            log.debug("feed position not saved: %s", exc)

    def _announce(self) -> None:
        """Toasts for new callbacks (admins and phone agents of the service) and for callbacks assigned
        to this user, whichever console took them in or assigned them."""
        user = self.session.user
        services = {
            s.id: s for s in self.session.services if permissions.receives_intake_notifications(user, s)
        }
        fresh = self.store.callbacks.new_since(self._seen_callback, list(services))
        if fresh:
            self._seen_callback = fresh[-1][0]
            self._unannounced += len(fresh)
            self._latest_new = fresh[-1]
            self._announce_new(services)
        assigned = cb.assignments_for(self.store, user.id, self._seen_history)
        if assigned:
            self._seen_history = assigned[-1][0]
            self._alert(t("cb.assigned_to_you", count=len(assigned)))
        self._update_badge()

    def _announce_new(self, services: dict | None = None) -> None:
        """At most one "new callback" toast per NEW_TOAST_S: a busy center's stream of requests becomes
        one toast with the count and the latest, instead of a stack covering the screen."""
        now = time.monotonic()
        if not self._unannounced or self._latest_new is None:
            return
        wait = self._last_new_toast + NEW_TOAST_S - now
        if wait > 0:
            if self._new_toast_timer is None:
                self._new_toast_timer = self.set_timer(wait, self._announce_new_later)
            return
        if services is None:
            user = self.session.user
            services = {
                s.id: s for s in self.session.services if permissions.receives_intake_notifications(user, s)
            }
        _, service_id, phone = self._latest_new
        service = services.get(service_id)
        name = service.name if service is not None else "?"
        if self._unannounced == 1:
            self._alert(t("cb.new", phone=format_phone(phone), service=name), timeout=NEW_TOAST_SHOWN_S)
        else:
            self._alert(
                t("cb.new_many", count=self._unannounced, phone=format_phone(phone), service=name),
                timeout=NEW_TOAST_SHOWN_S,
            )
        self._unannounced = 0
        self._last_new_toast = now

    def _announce_new_later(self) -> None:
        self._new_toast_timer = None
        self._announce_new()

    def _alert(self, message: str, timeout: float | None = None) -> None:
        if timeout is None:
            self.notify(message, title=t("brand.notification"))
        else:
            self.notify(message, title=t("brand.notification"), timeout=timeout)
        if self.config.bell:
            self.bell()
        if self.config.desktop_notifications and self._driver is not None:
            text = "".join(ch for ch in clean(message) if ch.isprintable())
            # OSC 777 and OSC 9: desktop notifications many terminals show, even over SSH.
            self._driver.write(f"\x1b]777;notify;Contiple;{text}\x07\x1b]9;{text}\x07")

    def _update_badge(self) -> None:
        user, service = self.session.user, self.session.service
        if not permissions.may_view_callbacks(user, service):
            return
        mine = self.store.callbacks.count_by_status(service.id, user.id)[CallbackStatus.ASSIGNED]
        nav = self._nav
        if nav is not None and nav.is_mounted:  # gone while the app is closing
            nav.set_badge("callback_list", mine)

    @on(WallboardPanel.TurnedCritical)
    def _critical(self) -> None:
        if self.config.bell:
            self.bell()

    # -- Excel -----------------------------------------------------------------------------------

    def _export_path(self, kind: str) -> Path:
        # The service's time, as every time the user sees (the host's zone is often UTC).
        stamp = self.clock().astimezone(ZoneInfo(self.session.service.timezone)).strftime("%Y%m%d-%H%M%S")
        return self.config.exports_dir / f"{kind}-{self.session.service.code}-{stamp}.xlsx"

    def _export(self, kind: str, write) -> None:
        """An Excel file to the exports folder with a progress screen; ``write(path, lang, progress)``."""
        path = self._export_path(kind)
        lang = get_language()

        def job(progress) -> int:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                from contiple_tui.export import ExportPathError

                raise ExportPathError(path, exc) from None
            return write(path, lang, progress)

        self.push_screen(ExportScreen(path, job))

    def export_callbacks(self, query) -> None:
        """Every row matching the current search (not only the screen) to the exports folder."""
        from contiple_tui.export import export_callbacks

        s = self.session
        self._export(
            "callbacks",
            lambda path, lang, progress: export_callbacks(
                s.store, s.user, s.service, query, path, lang=lang, progress=progress
            ),
        )

    def export_processing_status(self, first, last, monthly: bool) -> None:
        from contiple_tui.export import export_processing_status

        s = self.session
        self._export(
            "callback-status",
            lambda path, lang, progress: export_processing_status(
                s.store, s.user, s.service, first, last, monthly, path, lang=lang
            ),
        )

    def export_sms_history(self, f) -> None:
        """Every recipient of every send matching the history's filter (``core.sms.history_filter``)."""
        from contiple_tui.export import export_sms_history

        s = self.session
        self._export(
            "sms-history",
            lambda path, lang, progress: export_sms_history(
                s.store, s.user, s.service, f, path, lang=lang, progress=progress
            ),
        )

    def wallboard_command(self, view: str) -> list[str]:
        url = self.cti.url if self.cti is not None else None
        return wallboard_argv(str(self.config.data_dir), self.session.user.login, url, view)

    # -- live data ----------------------------------------------------------------------------

    def check_store_changes(self) -> None:
        """Poll PRAGMA data_version: another console's commit shows here within a refresh period.

        A disabled or removed user ends the console (IdentityError). A fault of the store (I/O error,
        damaged page, full disk) is said on screen once, not on every poll, and the console stays up."""
        try:
            read = self._check_store_changes()
        except IdentityError as exc:  # disabled or removed while signed in
            self.exit_message = exc.message()
            self.exit()
        except ContipleError as exc:  # a StoreError: the disk is full, a page is damaged, an I/O error
            message = exc.message()
            if message != self._store_fault:
                self._store_fault = message
                log.error("store fault while checking for changes: %s", exc)
                self.notify(message, severity="error")
        else:
            if read:
                self._store_fault = None  # the store answered again: a new fault is news

    def _check_store_changes(self) -> bool:
        """True when the store changed and was read without a fault.

        Only the topics of data that changed count (the feed position or the intake lease change none):
        the view on screen reloads when it shows one of them; hidden views are marked stale and reload
        when shown again."""
        topics = self._watcher.changes()
        if not topics:
            return False
        if "directory" in topics:
            before = (self.session.user, self.session.services, self.session.service)
            self.session.reload()
            if before != (self.session.user, self.session.services, self.session.service):
                self.query_one(ConsoleHeader).refresh_identity()
                self.rebuild_menus()
                return True
        fault: ContipleError | None = None
        if "callbacks" in topics:
            try:
                self._announce()
            except ContipleError as exc:  # said by the caller; the views still refresh (they say their own)
                fault = exc
        switcher = self._switcher
        if switcher is None:
            return True
        current = switcher.current
        for view in switcher.children:
            if not isinstance(view, MenuView) or not view.TOPICS & topics:
                continue
            if view.id == current:
                self._reload_view(view)
            else:
                view.stale = True
        if fault is not None:
            raise fault
        return True

    def _reload_view(self, view: MenuView) -> None:
        self.reloads += 1
        view.reload()

    # -- actions ------------------------------------------------------------------------------

    def action_toggle_help(self) -> None:
        if isinstance(self.screen, CheatSheet):
            self.screen.dismiss(None)
            return
        screen = self.screen
        view = None
        if self._switcher is not None and screen is self._switcher.screen:
            content = self._switcher.visible_content
            view = content if isinstance(content, MenuView) else None
        title = view.title if view is not None else t("help.dialog")
        bindings = [binding for _, binding, _, _ in screen.active_bindings.values()]
        notes = view.help_notes() if view is not None else []
        self.push_screen(CheatSheet(title, sheet_lines(bindings, self.get_key_display), notes))

    def action_toggle_nav(self) -> None:
        nav = self.query_one(NavMenu)
        nav.display = not nav.display
        self._nav_auto_hidden = False
        if nav.display:
            nav.focus()

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
        if len(self.session.services) < 2:
            self.notify(t("switch.only_one"), severity="information")
            return

        def switched(code: str | None) -> None:
            if code and code != self.session.service.code:
                self.session.switch_service(code)
                self.query_one(ConsoleHeader).refresh_identity()
                self.rebuild_menus()
                self.notify(t("switch.done", service=self.session.service.name))

        self.push_screen(ServiceSwitchScreen(self.session), switched)

    @on(ConsoleHeader.SwitchServiceRequested)
    def _header_switch(self) -> None:
        self.action_switch_service()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every menu by its Korean and its English name, then the console's own commands."""
        lang = get_language()
        for menu in self.menus:
            ko, en = both(f"menu.{menu.id}")
            if menu.group != "home":  # the group's name finds its views too ("wallboard", "전광판")
                group_ko, group_en = both(f"group.{menu.group}")
                ko, en = f"{group_ko} › {ko}", f"{group_en} › {en}"
            title = f"{ko} · {en}" if lang == "ko" else f"{en} · {ko}"
            yield SystemCommand(title, t("palette.open_menu"), lambda m=menu.id: self.show_menu(m))
        if len(self.session.services) > 1:
            yield SystemCommand(
                t("key.switch_service"), t("palette.switch_service"), self.action_switch_service
            )
        yield SystemCommand(t("palette.theme"), t("palette.theme_help"), self.action_change_theme)
        yield SystemCommand(t("key.help"), t("palette.help"), self.action_toggle_help)
        yield SystemCommand(t("key.quit"), t("palette.quit"), self.action_quit)

    async def on_unmount(self) -> None:
        self._watcher.close()
        if self.cti is not None:
            if self.feed is not None:  # the holder saves the position and releases the lease
                self.feed.close(self.feed_point())
            await self.cti.stop()
        self._write_stats()

    def _write_stats(self) -> None:
        """With CONTIPLE_TUI_STATS_FILE set (benchmarks), one JSON line of what this console did."""
        target = os.environ.get("CONTIPLE_TUI_STATS_FILE")
        if not target:
            return
        line = json.dumps(
            {
                "pid": os.getpid(),
                "user": self.session.user.login,
                "commits": self.store.db.commits,
                "reloads": self.reloads,
            }
        )
        try:
            with open(target, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            log.warning("could not write the stats file %s: %s", target, exc)


def all_binding_ids() -> set[str]:
    """Every binding id a keymap may name (ours; Textual's widgets keep their defaults)."""
    ids: set[str] = set()
    from contiple_tui.screens.agent_detail import AgentDetailScreen
    from contiple_tui.screens.callback_assign import CallbackAssignView
    from contiple_tui.screens.callback_unassign import CallbackUnassignView
    from contiple_tui.screens.history_form import HistoryFormScreen
    from contiple_tui.screens.sms_history import KEYMAP_CLASSES as SMS_HISTORY_CLASSES
    from contiple_tui.screens.sms_templates import KEYMAP_CLASSES as SMS_TEMPLATES_CLASSES
    from contiple_tui.screens.wallboard import PopoutScreen
    from contiple_tui.widgets.agent_picker import AgentPicker
    from contiple_tui.widgets.callback_table import CallbackTable
    from contiple_tui.widgets.image_picker import ImagePicker

    for cls in (
        ContipleApp,
        ServiceSwitchScreen,
        WallboardView,
        PopoutScreen,
        AgentDetailScreen,
        CallbackListView,
        CallbackAssignView,
        CallbackUnassignView,
        CallbackStatusView,
        CallbackTable,
        HistoryFormScreen,
        ExportScreen,
        AgentPicker,
        *SMS_HISTORY_CLASSES,
        *SMS_TEMPLATES_CLASSES,
        SmsComposeView,
        SmsPreviewScreen,
        ImagePicker,
    ):
        for binding in cls.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def _freeze_startup_objects() -> None:
    """Once the console is up: the objects of the start (modules, widgets, styles) move out of the garbage
    collector's sight, so its full collections stay short (a 55-67 ms pause about every 17 page downs
    before, 9-10 ms after) and cost an idle console less."""
    gc.collect()
    gc.freeze()
