"""PRODUCT.md's permission table, enforced here whatever the UI shows or hides.

``may_*`` functions answer a question (the UI uses them to hide what a user may not do);
``require_*`` functions raise :class:`PermissionDenied` and are what every core action calls first.
"""

from __future__ import annotations

from enum import StrEnum

from contiple_tui.domain.models import Perm, Role, Service, User
from contiple_tui.errors import PermissionDenied


class Action(StrEnum):
    """Names of guarded actions; each has a message ``action.<name>`` in both languages."""

    VIEW_CALLBACKS = "view_callbacks"
    CONNECT_CALLBACK = "connect_callback"
    COMPLETE_CALLBACK = "complete_callback"
    REGISTER_HISTORY = "register_history"
    ASSIGN_CALLBACKS = "assign_callbacks"
    RECEIVE_ASSIGNMENT = "receive_assignment"
    VIEW_PROCESSING_STATUS = "view_processing_status"
    VIEW_SMS = "view_sms"
    MANAGE_SMS_TEMPLATES = "manage_sms_templates"
    SEND_SMS = "send_sms"
    VIEW_SMS_HISTORY = "view_sms_history"
    VIEW_WALLBOARD = "view_wallboard"


class Scope(StrEnum):
    ALL = "all"  # every record of the service
    OWN = "own"  # only the user's own records


def _active_member(user: User, service: Service) -> bool:
    return not user.disabled and user.member_of(service)


# -- callbacks (콜백 관리) ------------------------------------------------------------------------


def may_view_callbacks(user: User, service: Service) -> bool:
    """Callback menus: the service has the callback feature on, and the user is admin or has phone."""
    return _active_member(user, service) and service.callback_enabled and user.has(Perm.PHONE)


def callback_list_scope(user: User, service: Service) -> Scope:
    """Admins see every callback of the service; agents only those assigned to them."""
    require(may_view_callbacks(user, service), Action.VIEW_CALLBACKS)
    return Scope.ALL if user.is_admin else Scope.OWN


def may_connect_callback(user: User, service: Service, assignee_id: int | None, cti_logged_in: bool) -> bool:
    return (
        may_view_callbacks(user, service)
        and user.has(Perm.PHONE)
        and (user.is_admin or assignee_id == user.id)
        and cti_logged_in
    )


def require_connect_callback(
    user: User, service: Service, assignee_id: int | None, cti_logged_in: bool
) -> None:
    """Connect (연결): the assignee or an admin, with phone, logged in to the CTI."""
    require(may_view_callbacks(user, service), Action.VIEW_CALLBACKS)
    require(user.is_admin or assignee_id == user.id, Action.CONNECT_CALLBACK)
    if not cti_logged_in:  # a user with no agent in the phone system at all: "logged out" would mislead
        raise PermissionDenied(
            Action.CONNECT_CALLBACK, reason="cti_login" if user.cti_agent_id else "no_cti_agent"
        )


def require_dial_outcome(user: User, service: Service, assignee_id: int | None) -> None:
    """Recording how a dial went (answered: the on_connect ticket; over: dialable again) is part of
    connecting: the assignee or an admin, with phone, in the service. No CTI login needed any more."""
    require(may_view_callbacks(user, service), Action.VIEW_CALLBACKS)
    require(user.is_admin or assignee_id == user.id, Action.CONNECT_CALLBACK)


def may_complete_callback(user: User, service: Service, assignee_id: int | None) -> bool:
    return may_view_callbacks(user, service) and (user.is_admin or assignee_id == user.id)


def require_complete_callback(user: User, service: Service, assignee_id: int | None) -> None:
    """Complete (완료): the assignee, or an admin."""
    require(may_view_callbacks(user, service), Action.VIEW_CALLBACKS)
    require(user.is_admin or assignee_id == user.id, Action.COMPLETE_CALLBACK)


def may_register_history(user: User, service: Service) -> bool:
    """Register history (이력 등록): anyone who sees the list."""
    return may_view_callbacks(user, service)


def require_register_history(user: User, service: Service) -> None:
    require(may_register_history(user, service), Action.REGISTER_HISTORY)


def may_assign_callbacks(user: User, service: Service) -> bool:
    """Assign and cancel assignment: admin, or agent with callback_assign."""
    return may_view_callbacks(user, service) and user.has(Perm.CALLBACK_ASSIGN)


def require_assign_callbacks(user: User, service: Service) -> None:
    require(may_assign_callbacks(user, service), Action.ASSIGN_CALLBACKS)


def may_receive_assignment(user: User, service: Service) -> bool:
    """Callbacks are dealt to the agents with phone in the service."""
    return _active_member(user, service) and user.role is Role.AGENT and user.has(Perm.PHONE)


def require_receive_assignment(user: User, service: Service) -> None:
    require(may_receive_assignment(user, service), Action.RECEIVE_ASSIGNMENT)


def may_view_processing_status(user: User, service: Service) -> bool:
    """Processing status (처리현황): admin only."""
    return may_view_callbacks(user, service) and user.is_admin


def require_view_processing_status(user: User, service: Service) -> None:
    require(may_view_processing_status(user, service), Action.VIEW_PROCESSING_STATUS)


def receives_intake_notifications(user: User, service: Service) -> bool:
    """Callback-intake notifications: admins and agents with phone in that service."""
    return may_view_callbacks(user, service)


# -- SMS (SMS 발송) ------------------------------------------------------------------------------


def may_view_sms(user: User, service: Service) -> bool:
    """SMS menus: the service has SMS on; admins and agents (not wallboard accounts)."""
    return _active_member(user, service) and service.sms_enabled and user.role in (Role.ADMIN, Role.AGENT)


def may_manage_sms_templates(user: User, service: Service) -> bool:
    return may_view_sms(user, service) and user.is_admin


def require_manage_sms_templates(user: User, service: Service) -> None:
    require(may_view_sms(user, service), Action.VIEW_SMS)
    require(user.is_admin, Action.MANAGE_SMS_TEMPLATES)


def require_send_sms(user: User, service: Service) -> None:
    require(may_view_sms(user, service), Action.SEND_SMS)


def require_view_sms_history(user: User, service: Service) -> None:
    require(may_view_sms(user, service), Action.VIEW_SMS_HISTORY)


def sms_history_scope(user: User, service: Service) -> Scope:
    """An agent's history shows what they sent; an admin's shows all."""
    require_view_sms_history(user, service)
    return Scope.ALL if user.is_admin else Scope.OWN


# -- wallboard (전광판) ---------------------------------------------------------------------------


def may_view_wallboard(user: User, service: Service) -> bool:
    """Anyone in the service, when the service has the CTI (there is nothing to show without it)."""
    return _active_member(user, service) and service.cti_enabled


def require_view_wallboard(user: User, service: Service) -> None:
    require(may_view_wallboard(user, service), Action.VIEW_WALLBOARD)


def require(allowed: bool, action: Action) -> None:
    if not allowed:
        raise PermissionDenied(action)
