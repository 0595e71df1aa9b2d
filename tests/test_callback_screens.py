"""Pilot tests of the callback screens: list, connect, complete, history, assign, unassign, intake."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Input

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.screens.history_form import HistoryFormScreen
from contiple_tui.widgets.agent_picker import AgentPicker
from contiple_tui.widgets.callback_table import CallbackTable

from .apphelpers import cti_console, make_app, settle, static_text, until, workers_done
from .ctidata import event
from .ctiserver import ScriptedCti, replaying_missed_request


async def open_table(pilot, menu: str) -> CallbackTable:
    """Open a callback screen, wait for its rows, and give its table the keys."""
    pilot.app.show_menu(menu)
    await settle(pilot, rounds=3, pause=0.3)
    table = pilot.app.query_one(CallbackTable)
    table.focus()
    return table


def point_at_assigned(table: CallbackTable):
    """Put the cursor on the first not-yet-completed callback of the page; return it."""
    target = next(c for c in table.rows_by_key.values() if c.status is CallbackStatus.ASSIGNED)
    table.move_cursor(row=table.row_of(target.id))
    return target


def users_of(store):
    return {u.login: u for u in store.users.list()}


async def test_agent_sees_only_own_callbacks_and_filters(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        table = app.query_one(CallbackTable)
        me = users_of(demo_store)["agent02"].id
        assert table.row_count > 0 and all(c.assignee_id == me for c in table.rows_by_key.values())
        assert "of" in static_text(app.query_one("#cb-status-line"))
        some = next(iter(table.rows_by_key.values()))
        app.query_one("#cb-phone", Input).value = some.customer_phone[3:9]
        await until(pilot, lambda: some.id in {c.id for c in table.rows_by_key.values()})
        app.query_one("#cb-from", Input).value = "2026-13-45"
        await until(pilot, lambda: "2026-13-45" in static_text(app.query_one("#cb-status-line")))
        app.query_one("#cb-from", Input).value = "2026-11-20"
        app.query_one("#cb-to", Input).value = "2026-11-01"
        await until(pilot, lambda: "reversed" in static_text(app.query_one("#cb-status-line")))


async def test_a_filter_changed_before_the_view_is_ready_is_not_lost(demo_store):
    """On a busy machine the user (or a test) can change a filter before the view has armed itself."""
    from datetime import date

    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        view = app.query_one("#view-callback_list")
        view._ready = False  # the window between mount and the first refresh, held open
        app.query_one("#cb-from", Input).value = "2026-11-20"
        store, user = demo_store, users_of(demo_store)["agent02"]
        service = store.services.get_by_code("cs")
        expected = cb.count(
            store, user, service, cb.CallbackQuery(date_from=date(2026, 11, 20), date_to=date(2026, 11, 25))
        )
        await until(pilot, lambda: f"of {expected:,}" in static_text(app.query_one("#cb-status-line")))


async def test_complete_from_the_list(demo_store):
    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_table(pilot, "callback_list")
        target = point_at_assigned(table)
        await pilot.press("d")
        await settle(pilot, rounds=3, pause=0.3)
        assert (
            cb.get(
                demo_store, users_of(demo_store)["agent02"], demo_store.services.get_by_code("cs"), target.id
            ).status
            is CallbackStatus.COMPLETED
        )
        assert any("완료" in n.message for n in app._notifications)


async def test_connect_without_cti_is_refused(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_table(pilot, "callback_list")
        target = point_at_assigned(table)
        await pilot.press("c")
        await pilot.pause()
        assert any("CTI" in n.message for n in app._notifications)
        cs = demo_store.services.get_by_code("cs")
        assert cb.get(demo_store, users_of(demo_store)["agent02"], cs, target.id).attempts == target.attempts


async def test_connect_dials_through_the_cti_and_the_outcome_closes_it(demo_store):
    server = ScriptedCti()
    server.snapshot["agents"][1]["agent_id"] = "1002"  # agent02, ready
    server.snapshot["agents"][1]["state"] = "ready"
    cs = demo_store.services.get_by_code("cs")
    agent = users_of(demo_store)["agent02"]
    async with cti_console(demo_store, server, "agent02") as (app, pilot):
        table = await open_table(pilot, "callback_list")
        target = point_at_assigned(table)
        await pilot.press("c")
        await until(pilot, lambda: any(m.get("command") == "dial" for m in server.received))
        dial = next(m for m in server.received if m.get("command") == "dial")
        assert dial["agent_id"] == "1002" and dial["number"] == target.customer_phone
        assert cb.get(demo_store, agent, cs, target.id).dialing_since is not None
        await pilot.press("c")  # a double press: refused, not dialled again
        await until(pilot, lambda: any("being dialled" in n.message for n in app._notifications))
        assert sum(1 for m in server.received if m.get("command") == "dial") == 1
        await server.send(event(11, "outbound_ended", agent_id="1002", call_id="o-1"))
        await until(pilot, lambda: cb.get(demo_store, agent, cs, target.id).dialing_since is None)
        after = cb.get(demo_store, agent, cs, target.id)
        assert after.dialing_since is None and after.attempts == target.attempts + 1


async def test_register_history_prefilled(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_table(pilot, "callback_list")
        current = table.current
        await pilot.press("h")
        await until(
            pilot,
            lambda: isinstance(app.screen, HistoryFormScreen) and bool(app.screen.query("#history-error")),
        )
        assert app.screen.query_one("#history-phone", Input).value == current.customer_phone
        app.screen.action_save()  # no subject yet
        await until(pilot, lambda: "subject" in static_text(app.screen.query_one("#history-error")))
        assert "subject" in static_text(app.screen.query_one("#history-error"))
        app.screen.query_one("#history-subject", Input).value = "재통화 약속"
        app.screen.action_save()
        await until(pilot, lambda: not isinstance(app.screen, HistoryFormScreen))
        assert not isinstance(app.screen, HistoryFormScreen)
        assert any(row[2] == "재통화 약속" for row in demo_store.callbacks.tickets_for(current.id))


async def test_equal_split_from_the_assignment_screen(demo_store):
    app = make_app(demo_store, "agent01", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_assign")
        await settle(pilot, rounds=3, pause=0.3)
        table = app.query_one(CallbackTable)
        assert all(c.status is CallbackStatus.UNASSIGNED for c in table.rows_by_key.values())
        assert "Unassigned" in static_text(app.query_one("#as-totals"))
        table.focus()
        await pilot.pause()
        assert app.focused is table, app.focused
        await pilot.press("space", "space", "space")
        picked = sorted(table.selected)
        assert len(picked) == 3
        agents = app.query_one(AgentPicker)
        agents.focus()
        await pilot.press("space", "down", "space")
        assert "☑" in str(agents.get_option_at_index(0).prompt)  # shown by a symbol, not colour
        await pilot.press("e")
        await settle(pilot, rounds=3, pause=0.3)
        cs = demo_store.services.get_by_code("cs")
        admin = users_of(demo_store)["admin"]
        assigned = [cb.get(demo_store, admin, cs, i) for i in picked]
        assert all(c.status is CallbackStatus.ASSIGNED for c in assigned)
        assert len({c.assignee_id for c in assigned}) == 2
        assert "3 callbacks assigned to 2 agents" in static_text(app.query_one("#as-status"))


async def test_manual_needs_exactly_one_agent(demo_store):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_table(pilot, "callback_assign")
        await pilot.press("space")
        agents = app.query_one(AgentPicker)
        agents.toggle(int(agents.get_option_at_index(0).id))
        agents.toggle(int(agents.get_option_at_index(1).id))
        await pilot.press("m")
        await settle(pilot, 1)
        assert "정확히 한 명" in static_text(app.query_one("#as-status"))
        assert all(c.status is CallbackStatus.UNASSIGNED for c in table.rows_by_key.values())


async def test_agent_without_assign_right_never_sees_the_screen(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test() as pilot:
        app.show_menu("callback_assign")
        await pilot.pause()
        assert app.current_menu_id == "home"


async def test_cancel_assignment(demo_store):
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_unassign")
        await settle(pilot, rounds=3, pause=0.3)
        table = app.query_one(CallbackTable)
        assert table.row_count and all(
            c.status is CallbackStatus.ASSIGNED for c in table.rows_by_key.values()
        )
        table.focus()
        first = table.current
        await pilot.press("space", "u")
        await settle(pilot, rounds=3, pause=0.3)
        cs = demo_store.services.get_by_code("cs")
        back = cb.get(demo_store, users_of(demo_store)["admin"], cs, first.id)
        assert back.status is CallbackStatus.UNASSIGNED and back.assignee_id is None
        assert "returned to unassigned" in static_text(app.query_one("#ua-status"))


async def test_intake_from_the_cti_and_notification(demo_store):
    server = ScriptedCti()
    async with cti_console(demo_store, server) as (app, pilot):
        request = event(
            11,
            "callback_requested",
            request_id="cb-x-1",
            service="cs",
            phone="01012340000",
            name=None,
            ivr_route="2",
            requested_at="2026-11-25T01:30:00.000Z",
        )
        await server.send(request)
        await server.send({**request, "seq": 12, "request_id": "cb-x-2"})  # same number again: merged
        await until(pilot, lambda: any("010-1234-0000" in n.message for n in app._notifications))
        assert any("New callback: 010-1234-0000" in n.message for n in app._notifications)
        rows = demo_store.db.conn.execute(
            "SELECT request_count FROM callbacks WHERE customer_phone = '01012340000'"
        ).fetchall()
        assert rows == [(2,)]


async def test_assignment_in_another_process_notifies_the_agent(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    cs = demo_store.services.get_by_code("cs")
    _, cid = cb.intake(
        demo_store,
        cs,
        request_id="cb-y",
        phone="01055557777",
        name=None,
        ivr_route=None,
        requested_at=__import__("datetime").datetime.now(__import__("datetime").timezone.utc),
    )
    async with app.run_test() as pilot:
        badge_before = app.store.callbacks.count_by_status(cs.id, users_of(demo_store)["agent02"].id)
        code = (
            "import sys; from contiple_tui.store import Store; from contiple_tui.core import callbacks as "
            "cb\n"
            "s = Store(sys.argv[1]); u = {x.login: x for x in s.users.list()}\n"
            "svc = s.services.get_by_code('cs')\n"
            "cb.assign_manual(s, u['admin'], svc, [int(sys.argv[2])], [u['agent02'].id])\n"
        )
        subprocess.run([sys.executable, "-c", code, str(demo_store.path), str(cid)], check=True, timeout=60)
        await until(pilot, lambda: any("assigned to you" in n.message for n in app._notifications))
        assert any("1 callback was assigned to you" in n.message for n in app._notifications)
        nav_label = str(app.query_one("#nav").get_option("callback_list").prompt)
        assert f"({badge_before[CallbackStatus.ASSIGNED] + 1})" in nav_label


async def test_excel_from_the_list_has_every_matching_row(demo_store, tmp_path):
    import openpyxl

    from contiple_tui.screens.export_progress import ExportScreen

    app = make_app(demo_store, "admin", lang="ko")
    app.config.data_dir = tmp_path  # exports go to DATA_DIR/exports
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        view = app.query_one("#view-callback_list")
        expected = cb.count(
            demo_store, users_of(demo_store)["admin"], demo_store.services.get_by_code("cs"), view._query
        )
        assert expected > 100  # more than the page on screen
        app.query_one(CallbackTable).focus()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await until(pilot, lambda: app.screen.done)
        path = app.screen.path
        assert path.parent == tmp_path / "exports" and path.exists()
        assert "저장했습니다" in static_text(app.screen.query_one("#export-message"))
        await pilot.press("escape")
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) - 1 == expected


async def test_requests_made_while_no_console_ran_arrive_when_one_connects(demo_store):
    """The position in the feed is kept in the store; the next console resumes from it and takes in
    the callback requests it missed, then gets a snapshot for the live picture."""
    from contiple_tui.core.feed_intake import POSITION_KEY

    server = replaying_missed_request(demo_store, "cb-missed-1")
    await server.start()
    app = make_app(demo_store, "admin", lang="en", cti_url=server.url)  # the client comes from the config
    try:
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live)
            assert app.cti.live and app.cti.model.seq == 12
            hello = server.hellos[0]
            assert (hello["epoch"], hello["last_seq"]) == ("test-1", 10)
            assert any(m.get("type") == "resync" for m in server.received)

            def missed() -> tuple | None:
                return demo_store.db.conn.execute(
                    "SELECT customer_name FROM callbacks WHERE cti_request_id = 'cb-missed-1'"
                ).fetchone()

            await until(pilot, lambda: missed() is not None)
            assert missed() == ("김민준",)
            await workers_done(app)
            await pilot.pause()
            app._save_position()
            assert demo_store.get_meta(POSITION_KEY) == "test-1:12"
    finally:
        await server.stop()


async def test_list_shows_assignee_names(demo_store):
    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        table = app.query_one(CallbackTable)
        row = table.get_row_at(0)
        assert users_of(demo_store)["agent02"].name in [str(getattr(c, "plain", c)) for c in row]


async def test_phone_filter_searches_at_once_after_a_pause_and_once_after_typing(demo_store, monkeypatch):
    """A paste (or a first digit, or a digit typed at a person's pace: after the debounce passed) searches at
    once; digits typed faster, on top of it, wait for the debounce; a date searches once it is complete and
    is called invalid only after a longer pause."""
    from contiple_tui.screens import callback_list

    assert callback_list.DEBOUNCE_S <= 0.1  # keys 100-200 ms apart each search at once: rows ≤ 0.15 s after
    monkeypatch.setattr(callback_list, "DEBOUNCE_S", 2.0)  # wide enough that a slow machine cannot blur it
    monkeypatch.setattr(callback_list, "DATE_PAUSE_S", 4.0)
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        view = app.query_one(callback_list.CallbackListView)
        phone = app.query_one("#cb-phone", Input)
        searches = []
        monkeypatch.setattr(view, "_load", lambda query, count_wait=0.0: searches.append(query))
        phone.value = "0101"
        await pilot.pause()
        assert [q.phone for q in searches] == ["0101"]  # at once
        phone.value = "01012"
        await pilot.pause()
        phone.value = "010123"
        await pilot.pause()
        assert [q.phone for q in searches] == ["0101"]  # typing: waits
        await until(pilot, lambda: len(searches) == 2, timeout=10)
        assert searches[-1].phone == "010123"  # once, with every digit
        assert view._debounce is None
        phone.value = "0101234"  # the next digit after the debounce passed: at once
        await pilot.pause()
        assert [q.phone for q in searches] == ["0101", "010123", "0101234"]
        await until(pilot, lambda: view._debounce is None, timeout=10)
        assert len(searches) == 3  # and not again when the debounce ends
        app.query_one("#cb-to", Input).value = "2026-11-2"
        await pilot.pause()
        assert len(searches) == 3 and "2026-11-2" not in static_text(app.query_one("#cb-status-line"))
        app.query_one("#cb-to", Input).value = "2026-11-25"  # complete: searches after the debounce
        await until(pilot, lambda: len(searches) == 4, timeout=10)
        assert searches[-1].date_to.isoformat() == "2026-11-25"
        app.query_one("#cb-to", Input).value = "2026-11-"
        await pilot.pause(2.5)  # the debounce passed; a date being typed is not called invalid yet
        assert len(searches) == 4 and "2026-11-" not in static_text(app.query_one("#cb-status-line"))
        await until(pilot, lambda: "2026-11-" in static_text(app.query_one("#cb-status-line")), timeout=10)
        assert len(searches) == 4


async def test_a_reload_that_finds_nothing_changed_redraws_nothing(demo_store):
    """Another console changed callbacks: the view re-reads its page and total in workers and redraws only
    what changed; the cursor and the selection stay."""
    from textual.widgets import Static

    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_table(pilot, "callback_list")
        view = app.query_one("#view-callback_list")
        line = app.query_one("#cb-status-line", Static)
        table.move_cursor(row=5)
        table.action_toggle_select()
        table.move_cursor(row=3)
        await pilot.pause()
        hook, updates = table.changed_hook, []
        hooked = []
        table.changed_hook = lambda: (hooked.append(1), hook())
        update = line.update
        line.update = lambda *a, **k: (updates.append(a), update(*a, **k))
        status_before = static_text(line)

        view.reload()  # nothing changed
        await settle(pilot, 2)
        assert hooked == [] and updates == [] and table.cursor_row == 3
        assert static_text(line) == status_before

        # A callback on screen completed elsewhere: its row is drawn again; the total is the same.
        target = point_at_assigned(table)
        table.move_cursor(row=3)
        admin, cs = users_of(demo_store)["admin"], demo_store.services.get_by_code("cs")
        cb.complete(demo_store, admin, cs, [target.id])
        view.reload()
        await settle(pilot, 2)
        assert table.rows_by_key[str(target.id)].status is CallbackStatus.COMPLETED
        assert hooked == [] and updates == [] and table.cursor_row == 3 and len(table.selected) == 1


async def test_opening_the_list_searches_once_and_the_choices_follow(demo_store, monkeypatch):
    """The rows do not wait for the Selects: they join the filter rows after the first rows are drawn, and
    announcing their first (blank) values searches nothing; a real choice searches at once."""
    from textual.widgets import Select

    from contiple_tui.screens import callback_list

    searched = []
    load = callback_list.CallbackListView._load
    monkeypatch.setattr(
        callback_list.CallbackListView,
        "_load",
        lambda self, query, count_wait=0.0: (searched.append(query), load(self, query, count_wait))[1],
    )
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=3, pause=0.3)
        view = app.query_one(callback_list.CallbackListView)
        assert [s.id for s in view.query(Select)] == ["cb-status", "cb-ivr", "cb-assignee", "cb-assigner"]
        assert len(searched) == 1 and view._ready
        app.query_one("#cb-status", Select).value = CallbackStatus.UNASSIGNED
        await settle(pilot, 1)
        assert [q.status for q in searched] == [None, CallbackStatus.UNASSIGNED]
        table = app.query_one(CallbackTable)
        assert table.row_count and all(
            c.status is CallbackStatus.UNASSIGNED for c in table.rows_by_key.values()
        )
