"""The console's menus and who sees them (per role, permission and contract flag)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contiple_tui.domain import permissions as p
from contiple_tui.domain.models import Service, User


@dataclass(frozen=True, slots=True)
class Menu:
    id: str  # also the i18n key suffix: menu.<id>
    group: str  # callbacks | sms | wallboard | home
    seed_ref: str  # section number in the product guide, e.g. "1-2"
    visible: Callable[[User, Service], bool]


def _always(user: User, service: Service) -> bool:
    return True


MENUS: tuple[Menu, ...] = (
    Menu("home", "home", "", _always),
    Menu("callback_list", "callbacks", "1-2", p.may_view_callbacks),
    Menu("callback_assign", "callbacks", "1-3", p.may_assign_callbacks),
    Menu("callback_unassign", "callbacks", "1-4", p.may_assign_callbacks),
    Menu("callback_status", "callbacks", "1-5", p.may_view_processing_status),
    Menu("sms_templates", "sms", "2-1", p.may_manage_sms_templates),
    Menu("sms_compose", "sms", "2-2", p.may_view_sms),
    Menu("sms_history", "sms", "2-3", p.may_view_sms),
    Menu("wallboard_overview", "wallboard", "3-1", p.may_view_wallboard),
    Menu("wallboard_services", "wallboard", "3-2", p.may_view_wallboard),
    Menu("wallboard_agents", "wallboard", "3-3", p.may_view_wallboard),
)
GROUPS = ("home", "callbacks", "sms", "wallboard")
MENU_BY_ID = {m.id: m for m in MENUS}


def visible_menus(user: User, service: Service) -> list[Menu]:
    return [m for m in MENUS if m.visible(user, service)]
