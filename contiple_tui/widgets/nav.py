"""The navigation: the menus this user may see in the service in use, grouped as in the product guide."""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from contiple_tui.domain.menus import Menu
from contiple_tui.i18n import t
from contiple_tui.widgets.bindings import Localized


class NavMenu(Localized, OptionList):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._badges: dict[str, str] = {}

    def set_menus(self, menus: list[Menu]) -> None:
        self._badges.clear()
        self.clear_options()
        group = None
        for menu in menus:
            if menu.group != group and menu.group != "home":
                group = menu.group
                self.add_option(Option(f"[b]{t(f'group.{group}')}[/b]", id=f"group:{group}", disabled=True))
            group = menu.group
            indent = "" if menu.group == "home" else "  "
            self.add_option(Option(f"{indent}{t(f'menu.{menu.id}')}", id=menu.id))

    def set_badge(self, menu_id: str, count: int) -> None:
        """The user's own open callbacks beside the menu: a number, not a colour."""
        try:
            self.get_option_index(menu_id)
        except Exception:  # noqa: BLE001 - the menu is not shown to this user
            return
        label = f"  {t(f'menu.{menu_id}')}"
        prompt = f"{label} [b]({count})[/b]" if count else label
        if self._badges.get(menu_id) != prompt:  # unchanged: no new prompt, no repaint of the whole menu
            self._badges[menu_id] = prompt
            self.replace_option_prompt(menu_id, prompt)

    def select_menu(self, menu_id: str) -> None:
        try:
            self.highlighted = self.get_option_index(menu_id)
        except Exception:  # noqa: BLE001 - the menu may have disappeared after a service switch
            pass
