"""The console's content area: one view per menu, composed when first shown and kept, the visible one
reloaded when data it shows changes, hidden ones marked stale and reloaded when shown again."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import AwaitMount
from textual.widgets import ContentSwitcher

from contiple_tui.core.session import Session
from contiple_tui.domain.menus import Menu
from contiple_tui.screens.base import MenuView, ViewContext
from contiple_tui.screens.callback_assign import CallbackAssignView
from contiple_tui.screens.callback_list import CallbackListView
from contiple_tui.screens.callback_status import CallbackStatusView
from contiple_tui.screens.callback_unassign import CallbackUnassignView
from contiple_tui.screens.home import HomeView
from contiple_tui.screens.pending import PendingView
from contiple_tui.screens.sms_compose import SmsComposeView
from contiple_tui.screens.sms_history import SmsHistoryView
from contiple_tui.screens.sms_templates import SmsTemplatesView
from contiple_tui.screens.wallboard import VIEW_OF_MENU, WallboardView
from contiple_tui.widgets.textual_gaps import being_taken_down

VIEW_CLASSES: dict[str, type[MenuView]] = {
    "home": HomeView,
    "callback_list": CallbackListView,
    "callback_assign": CallbackAssignView,
    "callback_unassign": CallbackUnassignView,
    "callback_status": CallbackStatusView,
    "sms_compose": SmsComposeView,
    "sms_templates": SmsTemplatesView,
    "sms_history": SmsHistoryView,
} | {menu_id: WallboardView for menu_id in VIEW_OF_MENU}


class MenuViews(ContentSwitcher):
    """``reloads`` counts the views reloaded because data changed (diagnostics, benchmarks)."""

    def __init__(self, context: ViewContext, **kwargs) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.reloads = 0

    @property
    def current_menu_id(self) -> str | None:
        return self.current.removeprefix("view-") if self.current else None

    @property
    def visible_view(self) -> MenuView | None:
        view = self.visible_content
        return view if isinstance(view, MenuView) else None

    def show(self, menu: Menu, session: Session) -> AwaitMount | None:
        """The menu's view on screen: composed the first time (awaiting the result waits for that),
        reloaded first if its data changed while it was hidden."""
        if being_taken_down(self):
            return None
        view_id = f"view-{menu.id}"
        existing = self.query(f"#{view_id}")
        mounted = None
        if not existing:
            view = VIEW_CLASSES.get(menu.id, PendingView)(menu, session)
            view.context = self.context
            mounted = self.mount(view)
        self.current = view_id
        if existing:
            view = existing.first(MenuView)
            if view.stale:
                view.stale = False
                self._reload(view)
        return mounted

    def data_changed(self, topics: Iterable[str]) -> None:
        """The view on screen reloads when it shows one of ``topics``; hidden ones are marked stale."""
        changed = set(topics)
        for view in self.children:
            if not isinstance(view, MenuView) or not view.TOPICS & changed:
                continue
            if view.id == self.current:
                self._reload(view)
            else:
                view.stale = True

    def _reload(self, view: MenuView) -> None:
        if being_taken_down(view):
            return
        self.reloads += 1
        view.reload()
