"""The console's frame: header, the navigation of the menus this user may see, the content area (one view
per menu, screens/menu_views.py) and the footer of keys.

The shell decides which view is on screen and where the focus goes, however a menu is opened (the
navigation, the palette, a service switch), and switches the service in use (F2, the palette or a click
on the service's name). The app wires it to the store's changes and the CTI feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import AwaitMount
from textual.widgets import OptionList

from contiple_tui.core.session import Session
from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.domain.menus import MENU_BY_ID, Menu, visible_menus
from contiple_tui.i18n import both, get_language, t
from contiple_tui.screens.base import MenuView, ViewContext
from contiple_tui.screens.menu_views import MenuViews
from contiple_tui.screens.service_switch import ServiceSwitchScreen
from contiple_tui.widgets.header import ConsoleHeader
from contiple_tui.widgets.key_footer import KeyFooter
from contiple_tui.widgets.link_reason import link_reason
from contiple_tui.widgets.nav import NavMenu
from contiple_tui.widgets.textual_gaps import being_taken_down

# Below this width a board or list takes the menu's columns too (F3 brings it back): the callback list
# needs about 115 for every column whole (IVR names, status words and headers, in English).
WIDE_ENOUGH_FOR_NAV = 130
FULL_WIDTH_GROUPS = ("wallboard", "callbacks", "sms")  # boards and lists want every column
BADGE_MENU = "callback_list"  # the menu that shows the user's own open callbacks


class ConsoleShell(Vertical):
    """``on_board`` is told whether the view on screen is a board (the CTI feed widens for boards)."""

    def __init__(
        self, session: Session, context: ViewContext, *, on_board: Callable[[bool], None], **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.on_board = on_board
        self._nav_auto_hidden = False
        # Kept: the change poll uses them on every change, and a query walks the whole screen.
        self.header = ConsoleHeader(session, context.clock, id="header")
        self.nav = NavMenu(id="nav")
        self.views = MenuViews(context)

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="body"):
            yield self.nav
            yield self.views
        yield KeyFooter()

    # -- menus and views ----------------------------------------------------------------------

    @property
    def menus(self) -> list[Menu]:
        return visible_menus(self.session.user, self.session.service)

    @property
    def current_menu_id(self) -> str | None:
        return self.views.current_menu_id

    @property
    def visible_view(self) -> MenuView | None:
        return self.views.visible_view

    @property
    def reloads(self) -> int:
        """Views reloaded because the store changed (diagnostics, benchmarks)."""
        return self.views.reloads

    def data_changed(self, topics: Iterable[str]) -> None:
        self.views.data_changed(topics)

    def identity_changed(self) -> None:
        """The user, their services or the service in use changed: the header and the menus anew."""
        self.header.refresh_identity()
        self.rebuild_menus()

    def rebuild_menus(self) -> None:
        """After start, a service switch or a change of the user's rights: menus and views anew, showing
        the same menu (Home when the new menus lack it), with the focus in it."""
        if being_taken_down(self):
            return  # the console is closing: a change the store's poll saw meanwhile needs no menus
        current = self.current_menu_id
        menus = self.menus
        self.nav.set_menus(menus)
        ids = [m.id for m in menus]
        target = current if current in ids else "home"
        if not self.views.children:
            self.show_menu(target, focus=False)  # the start: the menu keeps the focus
            return
        # The new views go into a container of their own beside the old one, hidden until the view is
        # composed: the old view stays on screen meanwhile, so the content area is never empty.
        body, old, new = self.query_one("#body"), self.views, MenuViews(self.views.context)
        new.display = False
        self.views = new
        mounted = body.mount(new, after=old)

        def superseded() -> bool:
            # A later rebuild (rights changed meanwhile) took over, and its swap clears up; or the console
            # is closing.
            return self.views is not new or being_taken_down(new)

        async def swap() -> None:
            await mounted
            if superseded():
                return
            composed = self.show_menu(target, focus=False)
            if composed is not None:
                await composed
            if superseded():  # while the view was composed: the later one's content area stays
                return
            new.display = True
            for other in [views for views in body.query_children(MenuViews) if views is not new]:
                await other.remove()
            self.app.call_after_refresh(self.focus_view)

        self.app.call_next(swap)

    @property
    def rebuilding(self) -> bool:
        """New views are being composed beside the old ones (quitting waits for it: BaseApp.action_quit):
        until the swap, the content area has more than one container."""
        body = self.views.parent
        return body is not None and len(body.query_children(MenuViews)) > 1

    def show_menu(self, menu_id: str, focus: bool = True) -> AwaitMount | None:
        """Show a menu's view (however it was asked for: the menu, the palette, a service switch) and,
        once it is composed, give the focus to its primary widget."""
        app = self.app
        menu = MENU_BY_ID[menu_id]
        if not menu.visible(self.session.user, self.session.service):
            app.notify(t("err.menu_hidden", menu=t(f"menu.{menu_id}")), severity="warning")
            return None
        composed = self.views.show(menu, self.session)
        self.on_board(menu.group == "wallboard")
        self.nav.select_menu(menu_id)
        self._fit_nav()
        if focus:
            # After the view is composed: its keys work at once; Tab or Shift+Tab returns to the menu.
            app.call_after_refresh(self.focus_view)
        return composed

    def menu_commands(self) -> Iterable[SystemCommand]:
        """The palette's commands: every menu by its Korean and its English name."""
        lang = get_language()

        # A view named as its group (SMS 발송 › SMS 발송) first: the palette keeps the order of equal
        # matches, and typing that name must open that view, not the group's first.
        def namesake(menu) -> bool:
            return any(n == g for n, g in zip(both(f"menu.{menu.id}"), both(f"group.{menu.group}")))

        menus = sorted(self.menus, key=lambda menu: not namesake(menu))
        for menu in menus:
            names = both(f"menu.{menu.id}")
            if menu.group != "home":  # the group's name finds its views too ("wallboard", "전광판")
                groups = both(f"group.{menu.group}")
                names = tuple(n if n == g else f"{g} › {n}" for n, g in zip(names, groups))
            ko, en = names
            title = f"{ko} · {en}" if lang == "ko" else f"{en} · {ko}"
            yield SystemCommand(title, t("palette.open_menu"), lambda m=menu.id: self.show_menu(m))

    def switch_service(self) -> None:
        """F2, the palette or a click on the service's name: the switcher, then the header and menus of
        the service picked."""
        app, session = self.app, self.session
        if len(session.services) < 2:
            app.notify(t("switch.only_one"), severity="information")
            return

        def switched(code: str | None) -> None:
            if code and code != session.service.code:
                session.switch_service(code)
                self.identity_changed()
                app.notify(t("switch.done", service=session.service.name))

        app.push_screen(ServiceSwitchScreen(session), switched)

    @on(ConsoleHeader.SwitchServiceRequested)
    def _header_switch(self) -> None:
        self.switch_service()

    def _fit_nav(self) -> None:
        """A board or list in a narrow terminal takes the menu's columns too: the menu steps aside (F3
        brings it back) and returns by itself on the next menu or when the terminal grows wide."""
        nav, menu_id = self.nav, self.current_menu_id
        wants_width = menu_id is not None and MENU_BY_ID[menu_id].group in FULL_WIDTH_GROUPS
        if wants_width and self.app.size.width < WIDE_ENOUGH_FOR_NAV:
            # Still stepped aside from an earlier board or list: it still returns by itself.
            self._nav_auto_hidden = self._nav_auto_hidden or nav.display
            nav.display = False
        elif self._nav_auto_hidden:
            nav.display = True
            self._nav_auto_hidden = False

    def on_resize(self) -> None:
        self._fit_nav()

    def toggle_nav(self) -> None:
        nav = self.nav
        nav.display = not nav.display
        self._nav_auto_hidden = False
        if nav.display:
            nav.focus()

    @on(MenuView.FocusWhileHidden)
    def _focus_while_hidden(self) -> None:
        self.app.call_after_refresh(self.focus_view)

    @on(OptionList.OptionSelected, "#nav")
    def _nav_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.show_menu(event.option.id)

    def focus_view(self, tries: int = 10) -> None:
        """The focus to the visible view's primary widget; to the menu when the view has none (Home). A
        hidden view never keeps it (MenuView hands it on here)."""
        app = self.app
        if not app.is_running or not app.screen_stack:
            return  # closing
        if app.screen is not self.views.screen:
            return  # a dialog is open: it has the keys (the focus comes back to the view when it closes)
        view = self.views.visible_view
        if view is None:
            return
        focused = app.screen.focused
        if focused is not None and view in focused.ancestors:
            return  # already in it (the user clicked or tabbed in meanwhile, or opened a dropdown)
        target = view.focus_target
        if target is not None:
            target.focus()
        elif tries:
            app.set_timer(0.05, lambda: self.focus_view(tries - 1))  # still being composed
        elif self.nav.display:  # nothing to focus in it (Home): the menu
            self.nav.focus()

    # -- what the app tells the frame ---------------------------------------------------------

    def show_link(self, client: CtiClient, state: LinkState) -> None:
        """The CTI link's state in the header (which may sit under a dialog, or be gone at exit)."""
        header = self.header
        if header.is_mounted and self.app.is_running:
            try:
                header.set_cti_state(state, link_reason(client))
            except NoMatches:  # the app is closing
                pass

    def set_badge(self, count: int | None) -> None:
        """The user's own open callbacks beside their menu (None: the user has no list here)."""
        if count is not None and self.nav.is_mounted:  # gone while the app is closing
            self.nav.set_badge(BADGE_MENU, count)
