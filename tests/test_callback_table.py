"""The callback table widget on its own: paging at the page's ends, reading ahead, re-reading, cursor,
selection marks, drawing.

It draws its own lines (no DataTable); the callback screens' snapshots check that it looks the same.
Here: 250 made-up callbacks behind a keyset fetch like the store's, in a bare app. The fetch notes which
thread called it: the UI thread (a key waited for SQL) or a worker (read ahead, re-read).
"""

from __future__ import annotations

import dataclasses
import threading

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from contiple_tui.core.callbacks import Callback
from contiple_tui.domain.models import CallbackStatus, IvrRoute, Service
from contiple_tui.i18n import set_language
from contiple_tui.widgets.callback_table import AHEAD_ZONE, PAGE, CallbackTable, callback_columns

from .apphelpers import settle

SERVICE = Service(id=1, code="cs", name="고객센터", ivr_routes=(IvrRoute("1", "주문/결제 문의"),))
KEYS = ("requested", "phone", "name", "ivr", "status", "assignee", "attempts", "requests")


def made_up(n: int) -> list[Callback]:
    """Newest first, as the store returns them; every third pair requested in the same second."""
    rows = []
    for i in range(n, 0, -1):
        at = 1_795_000_000 + (i // 2) * 60
        rows.append(
            Callback(
                id=i,
                service_id=1,
                cti_request_id=f"r{i}",
                customer_phone=f"0101234{i:04d}",
                customer_name="김지훈" if i % 2 else None,
                phone_valid=True,
                ivr_route="1",
                requested_at=at,
                last_requested_at=at,
                request_count=1 + (i % 3 == 0),
                status=CallbackStatus.UNASSIGNED,
                assignee_id=None,
                assigned_by=None,
                assigned_at=None,
                attempts=i % 4,
                last_attempt_at=None,
                completed_at=None,
                completed_by=None,
                dialing_since=None,
            )
        )
    rows.sort(key=lambda c: (c.requested_at, c.id), reverse=True)
    return rows


class Host(App):
    def __init__(self, rows: list[Callback]) -> None:
        super().__init__()
        self.rows = rows
        self.fetches: list[tuple[tuple[int, int] | None, int]] = []  # every fetch, from any thread
        self.ui_fetches: list[tuple[int, int] | None] = []  # the starts fetched on the UI thread
        self.worker_fetches: list[tuple[int, int] | None] = []  # ... and in worker threads
        self.gate: threading.Event | None = None  # when set up, workers' fetches wait for it
        self.messages: list[tuple[int, int]] = []
        self.hooked = 0

    def compose(self) -> ComposeResult:
        yield CallbackTable(callback_columns(SERVICE, {}, KEYS), id="t")

    def fetch(self, after, limit):
        on_ui = threading.current_thread() is threading.main_thread()
        if not on_ui and self.gate is not None:
            assert self.gate.wait(10)
        self.fetches.append((after, limit))
        (self.ui_fetches if on_ui else self.worker_fetches).append(after)
        rows = self.rows if after is None else [c for c in self.rows if (c.requested_at, c.id) < after]
        return rows[:limit]

    def on_mount(self) -> None:
        table = self.query_one(CallbackTable)
        table.changed_hook = self._hook
        table.focus()
        if table.fetch is None:  # (Textual calls a subclass's on_mount and then this one too)
            table.show_from_top(self.fetch, self.fetch(None, PAGE))

    def _hook(self) -> None:
        self.hooked += 1

    def on_callback_table_page_shown(self, message: CallbackTable.PageShown) -> None:
        self.messages.append((message.first, message.rows))


def line(table: CallbackTable, y: int) -> str:
    return table.render_line(y).text


def start_after(callback: Callback) -> tuple[int, int]:
    return (callback.requested_at, callback.id)


@pytest.fixture(autouse=True)
def english():
    set_language("en")


async def test_pages_on_at_the_ends_and_back():
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        assert table.row_count == PAGE and table.cursor_row == 0 and app.messages == [(1, PAGE)]
        assert [c.id for c in table._page_rows] == [c.id for c in app.rows[:PAGE]]
        assert app.ui_fetches == [None]  # the first page (given by the host); the next one was read ahead
        await pilot.press("pagedown")  # not at the last row: a screenful further on this page
        assert table.row_count == PAGE and 0 < table.cursor_row < PAGE - 1 and app.messages == [(1, PAGE)]
        await pilot.press("ctrl+end", "pagedown")  # at the last row: the next page, from its top
        await pilot.pause()
        assert [c.id for c in table._page_rows] == [c.id for c in app.rows[PAGE : 2 * PAGE]]
        assert table.cursor_row == 0 and table.scroll_y == 0 and app.messages[-1] == (PAGE + 1, PAGE)
        assert table.current is app.rows[PAGE]
        await settle(pilot)
        await pilot.press("up")  # above the first row: the page before, the cursor on its last row
        await pilot.pause()
        assert table.current is app.rows[PAGE - 1] and table.cursor_row == PAGE - 1
        assert app.messages[-1] == (1, PAGE)
        body = table.size.height - table.header_height  # the cursor's row is in view, under the header
        assert table.scroll_y <= table.cursor_row < table.scroll_y + body
        shown = line(table, table.header_height + table.cursor_row - int(table.scroll_y))
        assert f"010-1234-{app.rows[PAGE - 1].id:04d}" in shown
        await pilot.press("down")  # below the last row: the next page again
        await settle(pilot)
        await pilot.press("ctrl+end", "down")
        await settle(pilot)
        await pilot.press("ctrl+end", "pagedown")  # pages 3, then nothing after 250
        await settle(pilot)
        assert app.messages[-1] == (2 * PAGE + 1, 50) and table.row_count == 50
        fetched = len(app.fetches)
        await pilot.press("pagedown")  # a short page is the last one: no more fetching
        assert len(app.fetches) == fetched and table.cursor_row == 49
        await pilot.press("pageup", "ctrl+home", "pageup")
        await pilot.pause()
        assert app.messages[-1] == (PAGE + 1, PAGE) and table.cursor_row == PAGE - 1
        # The hook saw every page at once; a PageShown still waiting gives way to a newer one.
        assert app.hooked >= len(app.messages) and app.messages
        assert app.ui_fetches == [None]  # every key found its page at hand: none waited for a fetch


async def test_page_down_shows_the_page_read_ahead_without_fetching_on_the_ui_thread():
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        assert app.worker_fetches == []  # the cursor at the top of the page: nothing read ahead
        table.move_cursor(row=PAGE - AHEAD_ZONE - 1)
        await settle(pilot)
        assert app.worker_fetches == []  # not yet near the end
        table.move_cursor(row=PAGE - AHEAD_ZONE)
        await settle(pilot)
        assert app.worker_fetches == [start_after(app.rows[PAGE - 1])]  # in the second half: read ahead
        fetch = table.fetch
        calls: list[bool] = []

        def counted(after, limit):
            calls.append(threading.current_thread() is threading.main_thread())
            return fetch(after, limit)

        table.fetch = counted  # (the reading ahead that follows is given this one too)
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        assert calls == [] and table.current is app.rows[PAGE]  # shown from memory, synchronously
        await settle(pilot)
        assert calls == []  # at the top of page 2: the page before is the one kept, the next not needed yet
        table.move_cursor(row=PAGE - 1)
        await settle(pilot)
        assert calls == [False]  # near its end: the page after it read ahead, in a worker
        table.move_cursor(row=0)
        table.action_previous_page()  # the page just left was kept
        assert calls == [False] and table.current is app.rows[PAGE - 1]
        await settle(pilot)
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        assert calls == [False] and table.current is app.rows[PAGE]
        assert app.ui_fetches == [None]


async def test_the_page_read_ahead_is_drawn_ahead_and_looks_the_same():
    """The reading ahead also builds the first screenful of lines; shown, they equal lines drawn afresh."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        cut_on_ui: list[int] = []
        cut = table._cut

        def counting(callback, console):
            if threading.current_thread() is threading.main_thread():
                cut_on_ui.append(callback.id)
            return cut(callback, console)

        table._cut = counting
        table.move_cursor(row=PAGE - 1)
        await pilot.pause()
        await settle(pilot)
        cut_on_ui.clear()
        table.action_next_page()
        await pilot.pause()
        assert cut_on_ui == []  # every visible line came drawn from the thread
        body = table.size.height - table.header_height
        ahead = [table.render_line(y) for y in range(table.size.height)]
        table.redraw()  # the same lines, drawn here and now
        fresh = [table.render_line(y) for y in range(table.size.height)]
        assert len(cut_on_ui) == body and ahead == fresh
        assert "010-1234-0150" in ahead[table.header_height].text


async def test_a_page_kept_while_left_shows_the_selection_as_it_is_now():
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        table.move_cursor(row=PAGE - 1)
        await settle(pilot)
        table.action_next_page()
        await settle(pilot)
        table.action_toggle_select()  # the first row of page 2
        assert line(table, 1).startswith(" ✔ ")
        table.move_cursor(row=0)
        table.action_previous_page()  # page 2 is kept, drawn with its mark
        await settle(pilot)
        table.clear_selection()
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        await pilot.pause()
        assert not line(table, 1).startswith(" ✔") and app.ui_fetches == [None]


async def test_a_key_faster_than_the_reading_ahead_fetches_at_once():
    """The page is not read yet: the key reads it itself (as before reading ahead), and the late result of
    the reading ahead changes nothing."""
    app = Host(made_up(250))
    app.gate = threading.Event()  # the workers' fetches wait
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await pilot.pause()
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        assert app.ui_fetches == [None, start_after(app.rows[PAGE - 1])]
        app.gate.set()
        await pilot.pause()
        assert table.current is app.rows[PAGE] and app.messages[-1] == (PAGE + 1, PAGE)
        await settle(pilot)
        assert table.current is app.rows[PAGE] and app.messages[-1] == (PAGE + 1, PAGE)


async def test_a_new_search_drops_the_pages_read_ahead():
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        table.move_cursor(row=PAGE - 1)
        await settle(pilot)
        assert table._ahead  # the second page, read ahead for the first search
        other = [dataclasses.replace(c, customer_phone="01099998888") for c in made_up(250)]

        def search(after, limit):
            on_ui = threading.current_thread() is threading.main_thread()
            (app.ui_fetches if on_ui else app.worker_fetches).append(("new", after))
            rows = other if after is None else [c for c in other if (c.requested_at, c.id) < after]
            return rows[:limit]

        table.show_from_top(search, search(None, PAGE))
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()  # before anything was read ahead for the new search
        assert app.ui_fetches[-1] == ("new", start_after(other[PAGE - 1]))
        assert all(c.customer_phone == "01099998888" for c in table._page_rows)  # not the old search's page

        # A reading ahead of the old search that ends after the new search started is not kept.
        app.gate = threading.Event()
        table.show_from_top(app.fetch, app.fetch(None, PAGE))
        await pilot.pause()
        table.move_cursor(row=PAGE - 1)
        await pilot.pause()  # its reading ahead has started and waits at the gate
        table.show_from_top(search, search(None, PAGE))
        app.gate.set()
        await settle(pilot)
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        assert all(c.customer_phone == "01099998888" for c in table._page_rows)
        assert table.current is other[PAGE]


async def test_a_reread_redraws_only_what_changed():
    """Another console changed callbacks: the page is re-read in a worker and compared with the rows shown."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        table.move_cursor(row=5)
        table.selected.add(app.rows[7].id)
        await pilot.pause()
        drawn: list[int] = []
        render_line = table.render_line

        def counting(y: int):
            drawn.append(y)
            return render_line(y)

        table.render_line = counting
        hooked, messages, ui_fetches = app.hooked, list(app.messages), list(app.ui_fetches)

        table.refresh_page()  # the same rows: nothing is drawn, the status hook is not called
        await settle(pilot)
        assert drawn == [] and app.hooked == hooked and app.messages == messages
        assert app.ui_fetches == ui_fetches  # read in a worker
        assert table.cursor_row == 5 and table.selected == {app.rows[7].id}

        # One callback's status changed: that line alone is drawn again.
        app.rows[3] = dataclasses.replace(app.rows[3], status=CallbackStatus.COMPLETED)
        table.refresh_page()
        await settle(pilot)
        assert set(drawn) == {table.header_height + 3} and app.hooked == hooked and app.messages == messages
        assert "Complete" in line(table, table.header_height + 3)
        assert table.cursor_row == 5 and table.selected == {app.rows[7].id}

        # A callback above the cursor is gone: the page is shown anew, the cursor stays on its callback.
        current = table.current
        del app.rows[2]
        table.refresh_page()
        await settle(pilot)
        assert table.current is current and table.cursor_row == 4 and table.selected == {app.rows[6].id}
        assert app.hooked == hooked + 1 and app.messages[-1] == (1, PAGE)
        assert app.ui_fetches == ui_fetches


async def test_a_change_of_the_data_drops_the_pages_read_ahead():
    """What was read ahead may be out of date once the data changed: the next page is read again."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        app.rows[PAGE + 1] = dataclasses.replace(app.rows[PAGE + 1], status=CallbackStatus.COMPLETED)
        app.gate = threading.Event()  # the re-read and the new reading ahead wait
        table.refresh_page()
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()  # the page read ahead before the change is not used: read now
        assert app.ui_fetches[-1] == start_after(app.rows[PAGE - 1])
        assert table._page_rows[1].status is CallbackStatus.COMPLETED
        app.gate.set()
        await settle(pilot)
        assert table.current is app.rows[PAGE] and app.messages[-1] == (PAGE + 1, PAGE)


async def test_draws_header_rows_cursor_and_marks():
    app = Host(made_up(250))
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await pilot.pause()
        header = line(table, 0)
        # 120 columns: every column whole (the columns fit their content, issue 11)
        assert header.split() == ["Requested", "Phone", "Name", "IVR", "Status", "Assignee", "Tries", "Reqs"]
        first = app.rows[0]
        assert "010-1234-0250" in line(table, 1) and "1 주문/결제 문의" in line(table, 1)
        assert cell_len(line(table, 1)) == cell_len(header) == table.size.width
        hooked = app.hooked
        await pilot.press("space")  # marks the row and moves on
        assert table.selected == {first.id} and table.cursor_row == 1
        assert line(table, 1).startswith(" ✔ ") and line(table, 2).startswith("    ")
        assert app.hooked == hooked + 1
        await pilot.press("ctrl+a")
        assert table.selected == {c.id for c in app.rows[:PAGE]}
        assert all(line(table, y).startswith(" ✔ ") for y in range(1, table.size.height))
        await pilot.press("ctrl+end", "pagedown", "space")  # selection is kept across pages, by id
        await pilot.pause()
        assert app.rows[PAGE].id in table.selected and len(table.selected) == PAGE + 1
        assert table.chosen_ids()[0] == app.rows[PAGE].id
        table.clear_selection()
        assert not table.selected and not line(table, 1).startswith(" ✔")


async def test_click_moves_the_cursor_and_narrow_screens_scroll_sideways():
    app = Host(made_up(30))
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(CallbackTable)
        await pilot.pause()
        await pilot.click(CallbackTable, offset=(5, 4))  # the fourth row under the header
        assert table.cursor_row == 3 and table.current is app.rows[3]
        await pilot.hover(CallbackTable, offset=(5, 6))  # the pointer's row is shown faintly
        assert table.hover_row == 5
        hovered = table.render_line(6)
        await pilot.press("down")  # keys hide it, as in a DataTable
        assert table.hover_row is None and table.render_line(6) != hovered
        assert table.max_scroll_x > 0 and table.scroll_x == 0
        header = line(table, 0)
        await pilot.press("right", "right")
        await pilot.pause()
        shift = int(table.scroll_x)
        assert shift > 0 and line(table, 0)[:20] == header[shift : shift + 20]
        await pilot.press("end")
        await pilot.pause()
        # 40 columns: only the columns that never give way are left (the time, the phone, the status)
        assert table.shown_columns == ["requested", "phone", "status"]
        assert table.scroll_x == table.max_scroll_x and line(table, 0).rstrip().endswith("Status")
        await pilot.press("home")
        await pilot.pause()
        assert table.scroll_x == 0 and table.cursor_row == 4  # sideways only: the cursor stays


async def test_same_size_pages_do_not_relayout():
    """A new page of the same size swaps the rows: no layout pass of the screen."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await pilot.pause()
        size = table.virtual_size
        table.move_cursor(row=PAGE - 1)
        table.action_next_page()
        assert not app.screen._layout_required and table.virtual_size == size
        table.action_previous_page()
        assert table.current is app.rows[PAGE - 1]


async def test_a_page_given_before_the_mount_is_shown_at_the_mount():
    """The list starts its first search while it is composed: the page may come before the table mounts."""

    class Early(Host):
        def compose(self) -> ComposeResult:
            table = CallbackTable(callback_columns(SERVICE, {}, KEYS), id="t")
            table.changed_hook = self._hook
            table.show_from_top(self.fetch, self.fetch(None, PAGE))  # not mounted yet
            assert table.row_count == 0
            yield table

    app = Early(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await pilot.pause()
        assert table.row_count == PAGE and app.messages == [(1, PAGE)] and app.hooked == 1
        assert "010-1234-0250" in line(table, 1)


async def test_a_list_left_at_its_top_reads_nothing_ahead_when_the_data_changes():
    """Each change elsewhere re-reads the page on screen, and nothing more while nobody pages (issue 10)."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        for _ in range(3):
            table.refresh_page()
            await settle(pilot)
        assert app.worker_fetches == [None, None, None]
        table.move_cursor(row=PAGE - 1)  # the user pages on: the next page is read ahead again
        await settle(pilot)
        assert app.worker_fetches[-1] == start_after(app.rows[PAGE - 1])


def test_columns_fit_the_width_they_get():
    """Whole when they fit, sharing what is left; cut in CUT_ORDER, then dropped in DROP_ORDER; the time,
    the phone number and the status never go."""
    from contiple_tui.widgets.callback_table import fit_columns

    set_language("en")
    service = Service(id=1, code="cs", name="cs", ivr_routes=(IvrRoute("1", "주문/결제 문의"),))
    columns = callback_columns(
        service,
        {1: "서서윤"},
        ("requested", "phone", "name", "ivr", "status", "assignee", "attempts", "requests"),
    )
    keys = [c.key for c in columns]

    def fitted(width):
        return {key: w for key, w in zip(keys, fit_columns(columns, width)) if w}

    whole = fitted(200)
    assert whole["ivr"] >= cell_len("1 주문/결제 문의") and whole["status"] >= cell_len("Not processed")
    assert whole["phone"] >= 13 and whole["assignee"] >= cell_len("Assignee")
    assert sum(w + 2 for w in whole.values()) <= 200
    tight = fitted(71)  # the callback list at 80x24
    assert "ivr" not in tight and tight["phone"] >= 13  # IVR gives way first; a phone number is never cut
    assert sum(w + 2 for w in tight.values()) <= 71
    narrow = fitted(30)
    assert list(narrow) == ["requested", "phone", "status"]
    agent = callback_columns(service, {1: "서서윤"}, keys, drop_first="assignee")
    assert "assignee" not in {k for k, w in zip(keys, fit_columns(agent, 71)) if w}
    assert "ivr" in {k for k, w in zip(keys, fit_columns(agent, 71)) if w}


async def test_a_flood_of_page_messages_is_handled_as_its_latest():
    """Held Page Down: PageShown messages still waiting are replaced by newer ones (can_replace), so
    the handlers see the latest page, not a backlog; another table's messages are never merged."""
    app = Host(made_up(250))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CallbackTable)
        await settle(pilot)
        before = len(app.messages)
        for first in range(1, 51):
            table.post_message(CallbackTable.PageShown(table, first, PAGE))
        await pilot.pause()
        handled = app.messages[before:]
        assert handled[-1] == (50, PAGE) and len(handled) < 50
        other = CallbackTable(callback_columns(SERVICE, {}, KEYS))
        assert not CallbackTable.PageShown(table, 1, 1).can_replace(CallbackTable.PageShown(other, 2, 1))
