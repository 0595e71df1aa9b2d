"""What every menu view shares: a title line and a hook for store changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message

from contiple_tui.config import Config, SmsSettings
from contiple_tui.core.session import Session
from contiple_tui.cti.client import CtiClient
from contiple_tui.domain.menus import Menu
from contiple_tui.i18n import t
from contiple_tui.widgets.bindings import Localized


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ViewContext:
    """What a menu's view gets from the console besides its session, handed down by the content area
    (screens/menu_views.py) so that a view never looks the app up: the clock (frozen in tests), the
    configuration (None: a view's defaults) and the CTI client (None: no phone system)."""

    clock: Callable[[], datetime] = field(default=_utc_now)
    config: Config | None = None
    cti: CtiClient | None = None


class MenuView(Localized, VerticalScroll):
    """A pane in the console's content area. Subclasses override :meth:`reload`."""

    can_focus = False
    context = ViewContext()  # the content area sets the console's

    def __init__(self, menu: Menu, session: Session) -> None:
        super().__init__(id=f"view-{menu.id}", classes="menu-view")
        self.menu = menu
        self.session = session
        self.border_title = self.title

    @property
    def title(self) -> str:
        ref = f"{self.menu.seed_ref} " if self.menu.seed_ref else ""
        return f"{ref}{t(f'menu.{self.menu.id}')}"

    FOCUS: str | None = None  # a selector for what takes the keys when the menu is opened

    @property
    def focus_target(self):
        """What takes the focus when the menu is opened from the navigation (None while composing)."""
        if self.FOCUS is None:
            return self if self.focusable else None
        found = self.query(self.FOCUS)
        return found.first() if found else None

    def help_notes(self) -> list[str]:
        """Lines F1's cheat sheet adds under the keys: by default what the view's tables say about their
        columns (the order they give way in at narrow widths, their abbreviations)."""
        return [note for table in self.query("CallbackTable") for note in table.help_notes()]

    def now(self) -> datetime:
        """Now by the app's clock (frozen in tests), in the service's time zone."""
        return self.context.clock().astimezone(ZoneInfo(self.session.service.timezone))

    def _sms_settings(self) -> SmsSettings:
        """The SMS gateway settings in effect (the defaults without a configuration: the sandbox)."""
        config = self.context.config
        return config.sms if config is not None else SmsSettings()

    def today(self) -> date:
        """Today in the service's time zone, by the app's clock: default periods follow it."""
        return self.now().date()

    # The store's topics of data (store.migrations.TOPICS) this view shows: it reloads only when one of
    # them changed. A hidden view is only marked stale and reloads when it is shown again.
    TOPICS: frozenset[str] = frozenset({"callbacks", "directory", "sms_templates", "sms_sends"})
    stale = False

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A hidden view never holds the focus (Textual gives it back to the widget that had it when a
        dialog or the palette closes, even inside a view hidden meanwhile): to the visible view."""
        if not self.display:
            self.screen.set_focus(None)
            self.post_message(self.FocusWhileHidden())

    class FocusWhileHidden(Message):
        """A widget of this hidden view got the focus (and lost it again): the app gives it to the view
        on screen."""

    def reload(self) -> None:
        """Called when the store changed (in this or another process) or the service was switched."""


class TableView(MenuView):
    """A MenuView with filters over a table: the table is one Tab away from anywhere in the
    view. Tab from a field goes to the table; Tab from the table goes on to the field after the one left
    (so Tab still visits every field, in turn with the table), the table's PARTNER first; Shift+Tab
    walks the fields as usual."""

    TABLE = "CallbackTable"  # a selector of the table
    PARTNER: str | None = None  # a selector of a widget worked with the table (Tab from it goes first)
    BINDINGS = [Binding("tab", "tab_table", "key.tab_table", show=False, id="view.tab_table")]
    # Narrower than this (the menu kept beside a list at 80 columns), a row of filters is laid out in two
    # columns: each choice keeps room for its value (themes/app.tcss, ".-slim .cb-filters").
    NARROW = 70

    _left_field = None

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.NARROW, "-slim")

    def action_tab_table(self) -> None:
        screen = self.screen
        tables = self.query(self.TABLE)
        if not tables:
            screen.focus_next()
            return
        table, focused = tables.first(), screen.focused
        if focused is not table:
            self._left_field = focused
            table.focus()
            return
        fields = [w for w in screen.focus_chain if w is not table and self in w.ancestors]
        if self.PARTNER:  # the assign screen's agents: one Tab from the table, not one per filter
            partners = set(self.query(self.PARTNER))
            fields.sort(key=lambda w: w not in partners)
        if not fields:
            return
        after = self._left_field
        index = fields.index(after) + 1 if after in fields else 0
        fields[index % len(fields)].focus()
