"""Callback management in the core: intake exactly once, search, connect/complete, assignment."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.errors import PermissionDenied, ValidationError
from contiple_tui.store import Store

from .conftest import FIXED_NOW, location, scalar

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

NOW = datetime.now(UTC)


@pytest.fixture
def world(demo_store):
    users = {u.login: u for u in demo_store.users.list()}
    cs = demo_store.services.get_by_code("cs")
    return demo_store, users, cs


def take(store, service, request_id, phone="01012345678", **kw):
    return cb.intake(
        store,
        service,
        request_id=request_id,
        phone=phone,
        name=kw.get("name"),
        ivr_route=kw.get("ivr_route", "1"),
        requested_at=kw.get("at", NOW),
    )


# -- intake ------------------------------------------------------------------------------------------


def test_intake_creates_once_and_merges_same_number(world):
    store, users, cs = world
    outcome, first = take(store, cs, "cb-1", "010-5555-0001")
    assert outcome is cb.IntakeOutcome.CREATED
    assert take(store, cs, "cb-1", "010-5555-0001") == (cb.IntakeOutcome.DUPLICATE, first)  # redelivery
    outcome, merged = take(store, cs, "cb-2", "01055550001", at=NOW + timedelta(minutes=5))
    assert (outcome, merged) == (cb.IntakeOutcome.MERGED, first)
    got = cb.get(store, users["admin"], cs, first)
    assert got.request_count == 2 and got.last_requested_at > got.requested_at
    assert got.customer_phone == "01055550001" and got.status is CallbackStatus.UNASSIGNED
    assert take(store, cs, "cb-2")[0] is cb.IntakeOutcome.DUPLICATE  # the merged request too


def test_completed_callback_is_not_merged_into(world):
    store, users, cs = world
    _, first = take(store, cs, "cb-10", "01077770000")
    cb.complete(store, users["admin"], cs, [first])
    outcome, second = take(store, cs, "cb-11", "01077770000")
    assert outcome is cb.IntakeOutcome.CREATED and second != first


def test_malformed_phone_is_kept_and_flagged(world):
    store, users, cs = world
    _, cid = take(store, cs, "cb-20", "12ab")
    got = cb.get(store, users["admin"], cs, cid)
    assert got is not None and not got.phone_valid


def _intake_worker(path: str, service_code: str, barrier) -> None:
    store = Store(path)
    service = store.services.get_by_code(service_code)
    barrier.wait()
    for i in range(50):
        cb.intake(
            store,
            service,
            request_id=f"race-{i}",
            phone=f"0109999{i:04d}",
            name=None,
            ivr_route=None,
            requested_at=NOW,
        )
    store.close()


def test_intake_exactly_once_across_processes(world):
    store, users, cs = world
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_intake_worker, args=(location(store), "cs", barrier)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    count = scalar(store, "SELECT count(*) FROM callbacks WHERE cti_request_id LIKE 'race-%'")
    assert count == 50


# -- search ------------------------------------------------------------------------------------------


def test_admin_sees_all_agent_sees_own(world):
    store, users, cs = world
    q = cb.CallbackQuery()
    total = cb.count(store, users["admin"], cs, q)
    own = cb.count(store, users["agent02"], cs, q)
    assert total > own > 0
    rows = cb.search(store, users["agent02"], cs, q, limit=1000)
    assert rows and all(r.assignee_id == users["agent02"].id for r in rows)
    with pytest.raises(PermissionDenied):
        cb.search(store, users["agent11"], cs, q)  # no phone permission


def test_keyset_pages_cover_everything_once(world):
    store, users, cs = world
    admin, q = users["admin"], cb.CallbackQuery()
    seen, after = [], None
    while True:
        page = cb.search(store, admin, cs, q, after=after, limit=37)
        if not page:
            break
        seen += [r.id for r in page]
        after = (page[-1].requested_at, page[-1].id)
    assert len(seen) == len(set(seen)) == cb.count(store, admin, cs, q)


def test_filters(world):
    store, users, cs = world
    admin = users["admin"]
    done = cb.search(store, admin, cs, cb.CallbackQuery(status=CallbackStatus.COMPLETED), limit=5000)
    assert done and all(r.status is CallbackStatus.COMPLETED for r in done)
    sample = done[0]
    by_phone = cb.search(store, admin, cs, cb.CallbackQuery(phone=sample.customer_phone[3:9]), limit=5000)
    assert sample.id in [r.id for r in by_phone]
    by_route = cb.search(store, admin, cs, cb.CallbackQuery(ivr_route="2"), limit=5000)
    assert by_route and all(r.ivr_route == "2" for r in by_route)
    mine = cb.search(store, admin, cs, cb.CallbackQuery(assignee_id=users["agent02"].id), limit=5000)
    assert mine and all(r.assignee_id == users["agent02"].id for r in mine)
    with pytest.raises(ValidationError) as err:
        cb.search(store, admin, cs, cb.CallbackQuery(date_from=date(2026, 11, 2), date_to=date(2026, 11, 1)))
    assert err.value.key == "err.date_range_reversed"


# -- connect and complete ----------------------------------------------------------------------------


def _assigned_to(store, users, cs, login):
    _, cid = take(store, cs, f"cb-{login}", "01033334444")
    cb.assign_manual(store, users["admin"], cs, [cid], [users[login].id])
    return cid


def test_connect_counts_attempts_and_refuses_double_press(world):
    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    agent = users["agent02"]
    dialled = cb.begin_dial(store, agent, cs, cid, cti_logged_in=True)
    assert dialled.attempts == 0 and dialled.dialing_since is not None  # not counted before the CTI accepts
    with pytest.raises(ValidationError) as err:
        cb.begin_dial(store, agent, cs, cid, cti_logged_in=True)
    assert err.value.key == "err.cb_dialing"
    assert cb.dial_accepted(store, agent, cs, cid).attempts == 1
    assert len(store.callbacks.tickets_for(cid)) == 1  # cs creates the ticket on dial
    cb.end_dial(store, agent, cs, cid)
    cb.begin_dial(store, agent, cs, cid, cti_logged_in=True)
    assert cb.dial_accepted(store, agent, cs, cid).attempts == 2


def test_a_dial_the_phone_system_refuses_counts_no_attempt(world):
    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    agent = users["agent02"]
    for _ in range(3):
        cb.begin_dial(store, agent, cs, cid, cti_logged_in=True)
        cb.end_dial(store, agent, cs, cid)  # refused (agent busy…): the dial ends at once
    after = cb.get(store, agent, cs, cid)
    assert after.attempts == 0 and after.last_attempt_at is None and after.dialing_since is None
    assert store.callbacks.tickets_for(cid) == []


def test_connect_refusals(world):
    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    with pytest.raises(PermissionDenied) as err:
        cb.begin_dial(store, users["agent02"], cs, cid, cti_logged_in=False)
    assert err.value.reason == "cti_login"
    with pytest.raises(PermissionDenied):
        cb.begin_dial(store, users["agent05"], cs, cid, cti_logged_in=True)  # someone else's
    assert cb.get(store, users["admin"], cs, cid).attempts == 0


def test_on_connect_mode_creates_ticket_only_when_answered(world):
    store, users, _ = world
    sales = store.services.get_by_code("sales")
    _, cid = take(store, sales, "cb-s1", "01020203030")
    cb.assign_manual(store, users["admin"], sales, [cid], [users["agent03"].id])
    cb.begin_dial(store, users["agent03"], sales, cid, cti_logged_in=True)
    cb.dial_accepted(store, users["agent03"], sales, cid)
    assert store.callbacks.tickets_for(cid) == []
    cb.dial_answered(store, users["agent03"], sales, cid)
    cb.end_dial(store, users["agent03"], sales, cid)
    assert len(store.callbacks.tickets_for(cid)) == 1


def test_complete_is_idempotent_and_guarded(world):
    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    with pytest.raises(PermissionDenied):
        cb.complete(store, users["agent05"], cs, [cid])
    assert cb.complete(store, users["agent02"], cs, [cid]) == 1
    assert cb.complete(store, users["agent02"], cs, [cid]) == 0
    assert cb.get(store, users["admin"], cs, cid).status is CallbackStatus.COMPLETED
    actions = [row[2] for row in store.callbacks.history(cid)]
    assert actions == ["assign", "complete"]


def test_register_history(world):
    store, users, cs = world
    tid = cb.register_history(
        store, users["agent02"], cs, subject="배송 문의 후속", memo="내일 재안내", phone="010-1111-2222"
    )
    assert tid > 0
    with pytest.raises(ValidationError):
        cb.register_history(store, users["agent02"], cs, subject="  ")
    with pytest.raises(PermissionDenied):
        cb.register_history(store, users["agent11"], cs, subject="x")


# -- assignment ----------------------------------------------------------------------------------------


def _fresh(store, cs, n, prefix="n"):
    return [take(store, cs, f"{prefix}-{i}", f"0108888{i:04d}")[1] for i in range(n)]


def test_equal_split_deals_in_turn(world):
    store, users, cs = world
    ids = _fresh(store, cs, 7)
    agents = [users["agent02"].id, users["agent05"].id, users["agent08"].id]
    result = cb.assign_equal(store, users["agent01"], cs, ids, agents)
    assert result.assigned == {
        agents[0]: [ids[0], ids[3], ids[6]],
        agents[1]: [ids[1], ids[4]],
        agents[2]: [ids[2], ids[5]],
    }
    assert result.skipped == []
    again = cb.assign_equal(store, users["admin"], cs, ids[:2], agents)
    assert again.count == 0 and again.skipped == ids[:2]  # already taken


def test_equal_split_skips_what_was_taken_and_deals_the_rest_in_turn(world):
    """Taken meanwhile, completed, of another service, or listed twice: skipped (or dealt once); the
    turn passes only with a callback actually dealt, and each dealt one gets its assignment history."""
    store, users, cs = world
    sales = store.services.get_by_code("sales")
    ids = _fresh(store, cs, 8)
    other = take(store, sales, "other-service", "01077770000")[1]
    cb.assign_manual(store, users["admin"], cs, [ids[2]], [users["agent02"].id])  # another supervisor's
    cb.assign_manual(store, users["admin"], cs, [ids[5]], [users["agent02"].id])
    cb.complete(store, users["admin"], cs, [ids[5]])
    agents = [users["agent05"].id, users["agent08"].id]
    wanted = [ids[0], ids[1], ids[2], other, ids[3], ids[1], ids[4], ids[5], ids[6], ids[7]]
    result = cb.assign_equal(store, users["agent01"], cs, wanted, agents)
    assert result.assigned == {agents[0]: [ids[0], ids[3], ids[6]], agents[1]: [ids[1], ids[4], ids[7]]}
    assert result.skipped == [ids[2], other, ids[5]]
    for agent, dealt in result.assigned.items():
        for callback_id in dealt:
            callback = cb.get(store, users["admin"], cs, callback_id)
            assert (callback.status, callback.assignee_id, callback.assigned_by) == (
                CallbackStatus.ASSIGNED,
                agent,
                users["agent01"].id,
            )
            assert [h[1:] for h in store.callbacks.history(callback_id)] == [
                (users["agent01"].id, "assign", "unassigned", "assigned", None, agent)
            ]
    assert cb.get(store, users["admin"], cs, ids[2]).assignee_id == users["agent02"].id  # untouched
    assert store.callbacks.get(other)[10] == "unassigned"  # the other service's: untouched


def test_assignment_refusals(world):
    store, users, cs = world
    ids = _fresh(store, cs, 2)
    with pytest.raises(PermissionDenied):
        cb.assign_equal(store, users["agent02"], cs, ids, [users["agent05"].id])  # no callback_assign
    with pytest.raises(ValidationError) as err:
        cb.assign_equal(store, users["admin"], cs, [], [users["agent05"].id])
    assert err.value.key == "err.cb_none_selected"
    with pytest.raises(ValidationError) as err:
        cb.assign_equal(store, users["admin"], cs, ids, [])
    assert err.value.key == "err.cb_no_agents"
    with pytest.raises(ValidationError) as err:
        cb.assign_manual(store, users["admin"], cs, ids, [users["agent02"].id, users["agent05"].id])
    assert err.value.key == "err.cb_manual_one_agent"
    with pytest.raises(ValidationError) as err:
        cb.assign_manual(store, users["admin"], cs, ids, [users["agent11"].id])  # no phone
    assert err.value.key == "err.cb_bad_assignee"
    assert all(cb.get(store, users["admin"], cs, i).status is CallbackStatus.UNASSIGNED for i in ids)


def test_unassign_returns_to_unassigned_with_history(world):
    store, users, cs = world
    ids = _fresh(store, cs, 3)
    cb.assign_manual(store, users["admin"], cs, ids, [users["agent02"].id])
    cb.complete(store, users["agent02"], cs, [ids[2]])
    result = cb.unassign(store, users["agent01"], cs, ids)
    assert result.assigned == {users["agent02"].id: ids[:2]} and result.skipped == [ids[2]]
    assert cb.get(store, users["admin"], cs, ids[0]).status is CallbackStatus.UNASSIGNED
    assert [r[2] for r in store.callbacks.history(ids[0])] == ["assign", "unassign"]


def test_assignable_agents_and_loads(world):
    store, users, cs = world
    agents = dict((u.login, n) for u, n in cb.assignable_agents(store, users["admin"], cs))
    assert "agent02" in agents and "agent11" not in agents and "admin" not in agents
    assert agents["agent02"] == store.callbacks.incomplete_by_assignee(cs.id).get(users["agent02"].id, 0)


@settings(max_examples=25, deadline=None)
@given(n_callbacks=st.integers(1, 40), n_agents=st.integers(1, 5))
def test_equal_split_property(demo_template, tmp_path_factory, n_callbacks, n_agents):
    """Each callback once; agents differ by at most one."""
    import shutil

    path = tmp_path_factory.mktemp("split") / "db.sqlite3"
    shutil.copy(demo_template, path)
    store = Store(path)
    users = {u.login: u for u in store.users.list()}
    cs = store.services.get_by_code("cs")
    ids = _fresh(store, cs, n_callbacks, prefix="p")
    phone_agents = [u.id for u, _ in cb.assignable_agents(store, users["admin"], cs)][:n_agents]
    result = cb.assign_equal(store, users["admin"], cs, ids, phone_agents)
    dealt = [i for group in result.assigned.values() for i in group]
    assert sorted(dealt) == sorted(ids)
    sizes = [len(result.assigned.get(a, [])) for a in phone_agents]
    assert max(sizes) - min(sizes) <= 1
    store.close()


def _assign_worker(path: str, ids: list[int], agent_ids: list[int], barrier, out) -> None:
    store = Store(path)
    users = {u.login: u for u in store.users.list()}
    cs = store.services.get_by_code("cs")
    barrier.wait()
    result = cb.assign_equal(store, users["admin"], cs, ids, agent_ids)
    out.put((result.count, len(result.skipped)))
    store.close()


def test_eight_processes_assign_each_callback_exactly_once(world):
    store, users, cs = world
    ids = _fresh(store, cs, 1000, prefix="m")
    agents = [u.id for u, _ in cb.assignable_agents(store, users["admin"], cs)]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(target=_assign_worker, args=(location(store), ids, agents, barrier, out))
        for _ in range(8)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0  # no "database is locked" reached anyone
    assert sum(r[0] for r in results) == 1000
    assert all(r[0] + r[1] == 1000 for r in results)
    history = scalar(
        store,
        "SELECT count(*) FROM callback_history WHERE action = 'assign' AND callback_id IN "
        "(SELECT id FROM callbacks WHERE cti_request_id LIKE 'm-%')",
    )
    assert history == 1000


# -- processing status ----------------------------------------------------------------------------------


def test_processing_status(world):
    store, users, cs = world
    today = FIXED_NOW.date()  # the demo world was seeded over the 60 days before FIXED_NOW
    periods, agents = cb.processing_status(
        store, users["admin"], cs, today - timedelta(days=60), today + timedelta(days=1)
    )
    assert periods
    total_requested = sum(p.requested for p in periods)
    assert total_requested == cb.count(
        store,
        users["admin"],
        cs,
        cb.CallbackQuery(date_from=today - timedelta(days=60), date_to=today + timedelta(days=1)),
    )
    for row in periods:
        assert row.completed <= row.assigned <= row.requested
        assert row.rate is None or 0 <= row.rate <= 100
    monthly, _ = cb.processing_status(
        store, users["admin"], cs, today - timedelta(days=60), today, monthly=True
    )
    assert 2 <= len(monthly) <= 3 and all(len(p.period) == 7 for p in monthly)
    assert agents and all(a is not None for a, _ in agents)
    with pytest.raises(PermissionDenied):
        cb.processing_status(store, users["agent01"], cs, today, today)


def test_assigners_see_every_callback_on_the_assignment_screens(world):
    store, users, cs = world
    q = cb.CallbackQuery(status=CallbackStatus.UNASSIGNED)
    assert cb.search(store, users["agent01"], cs, q) == []  # the list: own only
    everyone = cb.search(store, users["agent01"], cs, q, assigning=True, limit=1000)
    assert everyone and all(c.assignee_id is None for c in everyone)
    with pytest.raises(PermissionDenied):
        cb.search(store, users["agent02"], cs, q, assigning=True)  # no callback_assign


def test_a_refusal_because_of_the_phone_system_says_so_not_not_allowed(world):
    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    with pytest.raises(PermissionDenied) as err:
        cb.begin_dial(store, users["agent02"], cs, cid, cti_logged_in=False)
    assert err.value.message("en").startswith("Your agent is logged out of the phone system")
    assert "Not allowed" not in err.value.message("en") and "권한" not in err.value.message("ko")


async def test_connect_while_the_cti_link_is_down_says_the_link_is_down(world):
    from contiple_tui.core.dialer import CallbackDialer
    from contiple_tui.core.session import Session
    from contiple_tui.cti.client import CtiClient

    store, users, cs = world
    cid = _assigned_to(store, users, cs, "agent02")
    said: list[tuple[str, str]] = []
    session = Session(store, users["agent02"])
    dialer = CallbackDialer(
        session, CtiClient("ws://127.0.0.1:9"), lambda message, severity: said.append((message, severity))
    )
    dialer.connect(cb.get(store, users["agent02"], cs, cid))
    assert said == [
        (
            "The phone system (CTI) is not connected, so the call cannot be placed. Try again once the "
            'header shows "CTI connected".',
            "error",
        )
    ]
    after = cb.get(store, users["agent02"], cs, cid)
    assert after.dialing_since is None and after.attempts == 0
