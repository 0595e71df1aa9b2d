"""One test per row of PRODUCT.md's permission table: the core refuses, whatever the UI shows."""

from __future__ import annotations

import dataclasses

import pytest

from contiple_tui.domain import permissions as p
from contiple_tui.domain.menus import visible_menus
from contiple_tui.domain.models import Perm, Role, Service, User
from contiple_tui.errors import PermissionDenied

SERVICE = Service(id=1, code="cs", name="고객센터")
OTHER = Service(id=2, code="sales", name="영업팀")
NO_CALLBACK = dataclasses.replace(SERVICE, callback_enabled=False)
NO_SMS = dataclasses.replace(SERVICE, sms_enabled=False)
NO_CTI = dataclasses.replace(SERVICE, cti_enabled=False)


def user(role: Role, *perms: Perm, uid: int = 10, services=(1,), disabled=False) -> User:
    return User(
        id=uid,
        login=f"u{uid}",
        name="사용자",
        role=role,
        perms=frozenset(perms),
        service_ids=tuple(services),
        disabled=disabled,
    )


ADMIN = user(Role.ADMIN, uid=1)
PHONE = user(Role.AGENT, Perm.PHONE, uid=2)
ASSIGNER = user(Role.AGENT, Perm.PHONE, Perm.CALLBACK_ASSIGN, uid=3)
PLAIN = user(Role.AGENT, uid=4)
TV = user(Role.WALLBOARD, uid=5)
OUTSIDER = user(Role.ADMIN, uid=6, services=(2,))


# -- see the callback menus at all ---------------------------------------------------------------


@pytest.mark.parametrize(
    "who, service, allowed",
    [
        (ADMIN, SERVICE, True),
        (PHONE, SERVICE, True),
        (ASSIGNER, SERVICE, True),
        (PLAIN, SERVICE, False),  # agent without phone
        (TV, SERVICE, False),
        (ADMIN, NO_CALLBACK, False),  # contract flag off
        (PHONE, NO_CALLBACK, False),
        (OUTSIDER, SERVICE, False),  # not in the service
        (dataclasses.replace(ADMIN, disabled=True), SERVICE, False),
    ],
)
def test_callback_menus(who, service, allowed):
    assert p.may_view_callbacks(who, service) is allowed
    if allowed:
        p.callback_list_scope(who, service)
    else:
        with pytest.raises(PermissionDenied):
            p.callback_list_scope(who, service)


def test_callback_list_scope_admin_all_agent_own():
    assert p.callback_list_scope(ADMIN, SERVICE) is p.Scope.ALL
    assert p.callback_list_scope(PHONE, SERVICE) is p.Scope.OWN
    assert p.callback_list_scope(ASSIGNER, SERVICE) is p.Scope.OWN


# -- connect (dial) ------------------------------------------------------------------------------


def test_connect_assignee_with_phone_logged_in():
    p.require_connect_callback(PHONE, SERVICE, assignee_id=PHONE.id, cti_logged_in=True)
    assert p.may_connect_callback(PHONE, SERVICE, PHONE.id, True)


def test_connect_admin_any_callback():
    p.require_connect_callback(ADMIN, SERVICE, assignee_id=PHONE.id, cti_logged_in=True)


def test_connect_refused_for_someone_elses_callback():
    with pytest.raises(PermissionDenied) as err:
        p.require_connect_callback(PHONE, SERVICE, assignee_id=ASSIGNER.id, cti_logged_in=True)
    assert err.value.action == p.Action.CONNECT_CALLBACK


def test_connect_refused_when_not_logged_in_to_cti():
    agent = dataclasses.replace(PHONE, cti_agent_id="1002")
    with pytest.raises(PermissionDenied) as err:
        p.require_connect_callback(agent, SERVICE, assignee_id=PHONE.id, cti_logged_in=False)
    assert err.value.reason == "cti_login"
    assert "CTI" in err.value.message("en") and "CTI" in err.value.message("ko")
    assert not p.may_connect_callback(agent, SERVICE, PHONE.id, False)


def test_connect_refused_to_a_user_with_no_cti_agent_says_so():
    """Not "logged out of the CTI" (an admin without an agent read that and looked for a login)."""
    with pytest.raises(PermissionDenied) as err:
        p.require_connect_callback(ADMIN, SERVICE, assignee_id=PHONE.id, cti_logged_in=False)
    assert err.value.reason == "no_cti_agent"
    assert "CTI ID" in err.value.message("en") and "상담원 ID가 없어" in err.value.message("ko")
    assert "Not allowed" not in err.value.message("en")


def test_connect_refused_without_phone():
    with pytest.raises(PermissionDenied):
        p.require_connect_callback(PLAIN, SERVICE, assignee_id=PLAIN.id, cti_logged_in=True)


# -- complete --------------------------------------------------------------------------------------


def test_complete_assignee_or_admin_only():
    p.require_complete_callback(PHONE, SERVICE, assignee_id=PHONE.id)
    p.require_complete_callback(ADMIN, SERVICE, assignee_id=PHONE.id)
    with pytest.raises(PermissionDenied):
        p.require_complete_callback(ASSIGNER, SERVICE, assignee_id=PHONE.id)  # assign right is not enough
    with pytest.raises(PermissionDenied):
        p.require_complete_callback(PHONE, SERVICE, assignee_id=None)


# -- register history ----------------------------------------------------------------------------


def test_register_history_anyone_who_sees_the_list():
    for who in (ADMIN, PHONE, ASSIGNER):
        p.require_register_history(who, SERVICE)
    for who in (PLAIN, TV):
        with pytest.raises(PermissionDenied):
            p.require_register_history(who, SERVICE)


# -- assign / unassign ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, allowed", [(ADMIN, True), (ASSIGNER, True), (PHONE, False), (PLAIN, False), (TV, False)]
)
def test_assign(who, allowed):
    assert p.may_assign_callbacks(who, SERVICE) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            p.require_assign_callbacks(who, SERVICE)
    else:
        p.require_assign_callbacks(who, SERVICE)


def test_assign_refused_when_callback_feature_off():
    with pytest.raises(PermissionDenied):
        p.require_assign_callbacks(ADMIN, NO_CALLBACK)


def test_only_agents_with_phone_receive_assignments():
    p.require_receive_assignment(PHONE, SERVICE)
    for who in (PLAIN, TV, ADMIN, OUTSIDER):
        with pytest.raises(PermissionDenied):
            p.require_receive_assignment(who, SERVICE)


# -- processing status ---------------------------------------------------------------------------


@pytest.mark.parametrize("who, allowed", [(ADMIN, True), (ASSIGNER, False), (PHONE, False), (TV, False)])
def test_processing_status_admin_only(who, allowed):
    assert p.may_view_processing_status(who, SERVICE) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            p.require_view_processing_status(who, SERVICE)


# -- SMS ---------------------------------------------------------------------------------------------


def test_sms_menus_need_sms_contract():
    assert p.may_view_sms(ADMIN, SERVICE) and p.may_view_sms(PLAIN, SERVICE)
    assert not p.may_view_sms(ADMIN, NO_SMS)
    with pytest.raises(PermissionDenied):
        p.require_send_sms(ADMIN, NO_SMS)


def test_sms_templates_admin_only():
    p.require_manage_sms_templates(ADMIN, SERVICE)
    for who in (PHONE, ASSIGNER, PLAIN, TV):
        with pytest.raises(PermissionDenied):
            p.require_manage_sms_templates(who, SERVICE)


def test_sms_sending_admin_or_agent():
    for who in (ADMIN, PHONE, PLAIN):
        p.require_send_sms(who, SERVICE)
    with pytest.raises(PermissionDenied):
        p.require_send_sms(TV, SERVICE)


def test_sms_history_scope():
    assert p.sms_history_scope(ADMIN, SERVICE) is p.Scope.ALL
    assert p.sms_history_scope(PLAIN, SERVICE) is p.Scope.OWN
    with pytest.raises(PermissionDenied):
        p.sms_history_scope(TV, SERVICE)


# -- wallboard ------------------------------------------------------------------------------------


def test_wallboard_anyone_in_the_service():
    for who in (ADMIN, PHONE, PLAIN, TV):
        p.require_view_wallboard(who, SERVICE)
    with pytest.raises(PermissionDenied):
        p.require_view_wallboard(OUTSIDER, SERVICE)
    with pytest.raises(PermissionDenied):
        p.require_view_wallboard(ADMIN, NO_CTI)


# -- notifications -------------------------------------------------------------------------------


def test_intake_notifications_admins_and_phone_agents():
    assert p.receives_intake_notifications(ADMIN, SERVICE)
    assert p.receives_intake_notifications(PHONE, SERVICE)
    assert not p.receives_intake_notifications(PLAIN, SERVICE)
    assert not p.receives_intake_notifications(TV, SERVICE)
    assert not p.receives_intake_notifications(PHONE, OTHER)


def test_admins_hold_every_permission():
    assert all(ADMIN.has(perm) for perm in Perm)
    assert not any(TV.has(perm) for perm in Perm)


def test_permission_message_in_both_languages():
    err = PermissionDenied(p.Action.ASSIGN_CALLBACKS)
    assert "callback_assign" in err.message("en")
    assert "콜백 할당" in err.message("ko")


# -- menus follow the same rules ----------------------------------------------------------------


def _menu_ids(who, service):
    return [m.id for m in visible_menus(who, service)]


def test_menus_admin_sees_everything():
    assert _menu_ids(ADMIN, SERVICE) == [
        "home",
        "callback_list",
        "callback_assign",
        "callback_unassign",
        "callback_status",
        "sms_templates",
        "sms_compose",
        "sms_history",
        "wallboard_overview",
        "wallboard_services",
        "wallboard_agents",
    ]


def test_menus_per_role_and_flag():
    assert "callback_assign" not in _menu_ids(PHONE, SERVICE)
    assert "callback_assign" in _menu_ids(ASSIGNER, SERVICE)
    assert "callback_status" not in _menu_ids(ASSIGNER, SERVICE)
    assert not any(m.startswith("callback") for m in _menu_ids(PLAIN, SERVICE))
    assert "sms_templates" not in _menu_ids(PHONE, SERVICE)
    assert _menu_ids(TV, SERVICE) == ["home", "wallboard_overview", "wallboard_services", "wallboard_agents"]
    assert not any(m.startswith("sms") for m in _menu_ids(ADMIN, NO_SMS))
    assert not any(m.startswith("callback") for m in _menu_ids(ADMIN, NO_CALLBACK))
    assert not any(m.startswith("wallboard") for m in _menu_ids(ADMIN, NO_CTI))
