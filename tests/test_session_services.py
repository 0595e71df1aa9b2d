"""What a screen may call: ``session.callbacks``, ``session.sms``, ``session.directory``
(core/services.py). They act as the session's user in its *current* service, through the core's checked
actions; a refusal is the core's refusal."""

from __future__ import annotations

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.domain.queries import CallbackQuery
from contiple_tui.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


def _session(store, login: str, service: str = "cs") -> Session:
    return Session(store, resolve_user(store, login), service)


def test_a_service_acts_in_the_service_in_use_after_a_switch(demo_store):
    session = _session(demo_store, "admin")
    query = CallbackQuery()
    assert session.callbacks.count(query) == cb.count(demo_store, session.user, session.service, query)
    session.switch_service("sales")
    sales = demo_store.services.get_by_code("sales")
    assert session.callbacks.count(query) == cb.count(demo_store, session.user, sales, query)
    assert session.callbacks.count(query) != 0


def test_a_refusal_through_a_service_is_the_cores(demo_store):
    agent = Session(demo_store, resolve_user(demo_store, "agent02"))  # phone only: no assigning
    with pytest.raises(PermissionDenied):
        agent.callbacks.assignable_agents()
    with pytest.raises(PermissionDenied):
        agent.sms.template_tree()
    with pytest.raises(NotFound):
        _session(demo_store, "admin").sms.message(999_999)


def test_a_user_disabled_elsewhere_is_refused_at_the_next_call(demo_store):
    from contiple_tui.core import directory
    from contiple_tui.errors import IdentityError

    agent = _session(demo_store, "agent01")
    directory.set_user_disabled(demo_store, "agent01", True)
    with pytest.raises(IdentityError):
        agent.callbacks.count(CallbackQuery())


def test_home_counts_are_the_services_for_an_admin_and_ones_own_for_an_agent(demo_store):
    admin, agent = _session(demo_store, "admin"), _session(demo_store, "agent01")
    cs = demo_store.services.get_by_code("cs")
    assert admin.callbacks.status_counts() == demo_store.callbacks.count_by_status(cs.id, None)
    mine = agent.callbacks.status_counts()
    assert mine == demo_store.callbacks.count_by_status(cs.id, agent.user.id)
    assert mine[CallbackStatus.UNASSIGNED] == 0  # an agent's own callbacks are assigned or done
    with pytest.raises(PermissionDenied):
        _session(demo_store, "tv").callbacks.status_counts()


def test_the_directory_gives_names_for_lists_and_boards(demo_store):
    session = _session(demo_store, "admin")
    names = session.directory.names()
    assert names[session.user.id] == session.user.name
    assert {u.id for u in session.directory.service_users()} <= set(names)
    agents = session.directory.agent_names()
    assert agents and all(key.isdigit() for key in agents)  # by CTI agent id


def test_the_sms_refresh_does_nothing_for_someone_who_may_not_see_sms(demo_store):
    def no_gateway(service, name):
        raise AssertionError("no gateway is asked for the TV")

    assert _session(demo_store, "tv").sms.refresh(no_gateway) == 0
