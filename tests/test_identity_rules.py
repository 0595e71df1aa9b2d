"""Issue 9 §5: the core refuses what the rules refuse, whatever a console still believes.

A console loads its user once; an administrator may disable the user or take rights away from another
process. Every core action re-reads the user (core.identity.acting), so the next action is refused, in
whichever process it runs. Tested on one real SQLite file with two connections or a CLI subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.core import sms
from contiple_tui.core.directory import set_user_disabled
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.errors import IdentityError, PermissionDenied, ValidationError
from contiple_tui.export import export_callbacks
from contiple_tui.store import Store

from .conftest import location, store_args, write_elsewhere

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

NOW = datetime.now(UTC)


@pytest.fixture
def world(demo_store):
    users = {u.login: u for u in demo_store.users.list()}
    services = {s.code: s for s in demo_store.services.list()}
    return demo_store, users, services


def _request(store, service, request_id, phone):
    return cb.intake(
        store, service, request_id=request_id, phone=phone, name=None, ivr_route="1", requested_at=NOW
    )[1]


def _assigned(store, users, service, login, request_id, phone="01033334444"):
    cid = _request(store, service, request_id, phone)
    cb.assign_manual(store, users["admin"], service, [cid], [users[login].id])
    return cid


def _cli_disable(store, login):
    subprocess.run(
        [sys.executable, "-m", "contiple_tui", *store_args(store), "users", "disable", login],
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_user_disabled_by_the_cli_is_refused_at_the_next_action(world):
    store, users, services = world
    cs = services["cs"]
    session = Session(store, resolve_user(store, "agent02"))  # a console signed in before the change
    cid = _assigned(store, users, cs, "agent02", "id-1")
    assert cb.get(store, session.user, cs, cid) is not None
    _cli_disable(store, "agent02")
    assert not session.user.disabled  # the console's own copy still says enabled
    for action in (
        lambda: cb.complete(store, session.user, session.service, [cid]),
        lambda: cb.begin_dial(store, session.user, session.service, cid, True),
        lambda: cb.register_history(store, session.user, session.service, subject="call"),
        lambda: cb.search(store, session.user, session.service, cb.CallbackQuery()),
        lambda: cb.dial_answered(store, session.user, session.service, cid),
        lambda: cb.end_dial(store, session.user, session.service, cid),
    ):
        with pytest.raises(IdentityError) as err:
            action()
        assert err.value.key == "err.disabled_user"
    after = cb._build(store.callbacks.get(cid))
    assert after.status is CallbackStatus.ASSIGNED and after.attempts == 0  # not completed, not dialled
    assert store.callbacks.tickets_for(cid) == []


def test_admin_disabled_through_another_connection_cannot_assign_export_or_send(world, tmp_path):
    store, users, services = world
    cs = services["cs"]
    admin = users["admin"]
    cid = _request(store, cs, "id-2", "01055556666")
    assigned = _assigned(store, users, cs, "agent05", "id-3", "01077778888")
    category = sms.add_category(store, admin, cs, "Before")
    other = Store(location(store))  # a second process's view of the same database
    try:
        set_user_disabled(other, "admin")
    finally:
        other.close()
    refused = {
        "assign": lambda: cb.assign_manual(store, admin, cs, [cid], [users["agent02"].id]),
        "equal": lambda: cb.assign_equal(store, admin, cs, [cid], [users["agent02"].id]),
        "unassign": lambda: cb.unassign(store, admin, cs, [assigned]),
        "agents": lambda: cb.assignable_agents(store, admin, cs),
        "status": lambda: cb.processing_status(store, admin, cs, NOW.date(), NOW.date()),
        "export": lambda: export_callbacks(
            store, admin, cs, cb.CallbackQuery(), tmp_path / "x.xlsx", lang="en"
        ),
        "category": lambda: sms.add_category(store, admin, cs, "After"),
        "rename": lambda: sms.update_category(store, admin, cs, category, "Renamed", True),
        "delete": lambda: sms.delete_category(store, admin, cs, category),
        "cancel": lambda: sms.cancel_reservation(store, admin, cs, 12345, None),
        "history": lambda: sms.history(store, admin, cs, sms.history_filter(admin, cs)),
    }
    for name, action in refused.items():
        with pytest.raises(IdentityError, match="disabled"):
            action()
            pytest.fail(f"{name} was allowed")
    assert cb._build(store.callbacks.get(cid)).status is CallbackStatus.UNASSIGNED
    assert cb._build(store.callbacks.get(assigned)).assignee_id == users["agent05"].id
    assert not (tmp_path / "x.xlsx").exists()


def test_rights_taken_away_in_another_process_are_refused(world):
    store, users, services = world
    cs = services["cs"]
    agent = users["agent02"]
    first = _assigned(store, users, cs, "agent02", "id-4", "01011112222")
    second = _assigned(store, users, cs, "agent02", "id-5", "01011113333")

    def change(sql: str) -> None:
        write_elsewhere(store, (sql, (agent.id,)))

    change("UPDATE users SET perm_phone = 0 WHERE id = ?")
    with pytest.raises(PermissionDenied):
        cb.complete(store, agent, cs, [first])
    change("UPDATE users SET perm_phone = 1 WHERE id = ?")
    assert cb.complete(store, agent, cs, [first]) == 1  # given back: allowed again
    change("DELETE FROM user_services WHERE user_id = ?")
    with pytest.raises(PermissionDenied):
        cb.complete(store, agent, cs, [second])
    assert cb._build(store.callbacks.get(second)).status is CallbackStatus.ASSIGNED


def test_callback_feature_turned_off_meanwhile_is_refused(world):
    store, users, services = world
    cs = services["cs"]
    cid = _assigned(store, users, cs, "agent02", "id-6")
    write_elsewhere(store, ("UPDATE services SET callback_enabled = 0 WHERE id = ?", (cs.id,)))
    with pytest.raises(PermissionDenied):
        cb.complete(store, users["agent02"], cs, [cid])  # the Service object still says enabled


def test_dial_outcomes_check_permission_and_service(world):
    """A wallboard account, a non-member or a colleague cannot record a dial's outcome (on_connect
    would create a ticket in their name); the assignee can."""
    store, users, services = world
    sales = services["sales"]  # on_connect: the ticket is created when the customer answers
    cid = _assigned(store, users, sales, "agent03", "id-7", "01020203030")
    cb.begin_dial(store, users["agent03"], sales, cid, True)
    for login in ("tv", "agent02", "agent06"):  # wallboard; not in sales; in sales but not the assignee
        with pytest.raises(PermissionDenied):
            cb.dial_answered(store, users[login], sales, cid)
        with pytest.raises(PermissionDenied):
            cb.end_dial(store, users[login], sales, cid)
    assert store.callbacks.tickets_for(cid) == []
    assert cb._build(store.callbacks.get(cid)).dialing_since is not None  # still dialling
    with pytest.raises(ValidationError):  # a callback of another service is not found there
        cb.end_dial(store, users["admin"], services["cs"], cid)
    cb.dial_answered(store, users["agent03"], sales, cid)
    cb.end_dial(store, users["agent03"], sales, cid)
    assert len(store.callbacks.tickets_for(cid)) == 1
    assert cb._build(store.callbacks.get(cid)).dialing_since is None


def test_removed_user_is_refused(world):
    store, users, services = world
    cs = services["cs"]
    agent = users["agent11"]
    write_elsewhere(
        store,
        ("DELETE FROM user_services WHERE user_id = ?", (agent.id,)),
        ("DELETE FROM users WHERE id = ?", (agent.id,)),
        foreign_keys=False,
    )
    with pytest.raises(IdentityError):
        cb.register_history(store, agent, cs, subject="x")
