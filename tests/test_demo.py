"""The demo world is realistic and complete enough to exercise every menu."""

from collections import Counter
from datetime import timedelta

from contiple_tui.domain.models import CallbackStatus, Perm, Role
from contiple_tui.sim import demo

from .conftest import FIXED_NOW


def test_demo_world(demo_store):
    services = demo_store.services.list()
    assert 2 <= len(services) <= 3
    assert all(s.ivr_routes for s in services)
    assert any(s.sender_numbers for s in services) and any(not s.sms_enabled for s in services)
    users = {u.login: u for u in demo_store.users.list()}
    assert users["admin"].role is Role.ADMIN and users["tv"].role is Role.WALLBOARD
    agents = [u for u in users.values() if u.role is Role.AGENT]
    assert any(Perm.CALLBACK_ASSIGN in u.perms for u in agents)
    assert any(u.perms == {Perm.PHONE} for u in agents)
    assert any(not u.perms for u in agents)
    assert any(len(u.service_ids) > 1 for u in agents)
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in u.name) for u in agents)  # Korean names


def test_demo_callbacks(demo_store):
    conn = demo_store.db.conn
    statuses = Counter(s for (s,) in conn.execute("SELECT status FROM callbacks"))
    assert set(statuses) == {str(s) for s in CallbackStatus} and sum(statuses.values()) == 400
    oldest, newest = conn.execute("SELECT min(requested_at), max(requested_at) FROM callbacks").fetchone()
    now = FIXED_NOW.timestamp()
    assert (
        now - oldest <= timedelta(days=60).total_seconds()
        and now - oldest > timedelta(days=30).total_seconds()
    )
    assert newest <= now
    # Assigned callbacks have an assignee with phone in that service, and a history entry.
    bad = conn.execute(
        "SELECT count(*) FROM callbacks c WHERE status != 'unassigned' AND NOT EXISTS ("
        " SELECT 1 FROM users u JOIN user_services us ON us.user_id = u.id"
        " WHERE u.id = c.assignee_id AND us.service_id = c.service_id AND u.perm_phone = 1)"
    ).fetchone()[0]
    assert bad == 0
    missing = conn.execute(
        "SELECT count(*) FROM callbacks c WHERE status != 'unassigned' AND NOT EXISTS ("
        " SELECT 1 FROM callback_history h WHERE h.callback_id = c.id AND h.action = 'assign')"
    ).fetchone()[0]
    assert missing == 0
    phones = [p for (p,) in conn.execute("SELECT customer_phone FROM callbacks")]
    assert all(p.isdigit() and p.startswith("0") and 9 <= len(p) <= 11 for p in phones)
    assert demo_store.integrity_ok()


def test_demo_agents_layout():
    agents = demo.demo_agents(12)
    assert agents[0].perms == {Perm.PHONE, Perm.CALLBACK_ASSIGN}
    assert [a.login for a in agents[-2:]] == ["agent11", "agent12"] and not agents[-1].perms
