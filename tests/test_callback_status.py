"""1-5 콜백 처리현황: the view's numbers equal the core's, filters, refusal, chart, export key, snapshots."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import ContentSwitcher, Input, Select, Static

import contiple_tui.screens.menu_views
from contiple_tui.core import callbacks as cb
from contiple_tui.core.wallboard import format_rate
from contiple_tui.domain.menus import MENU_BY_ID
from contiple_tui.i18n import t
from contiple_tui.screens.callback_status import (
    DEBOUNCE_S,
    DONE,
    MAX_DAYS,
    OPEN,
    CallbackStatusView,
    StatusQuery,
    bar_cells,
    fill_periods,
    period_keys,
)
from contiple_tui.widgets.board import BoardTable

from .apphelpers import SCREEN_SIZES, make_app, settle, size_id, static_text

NOV_1, NOV_25 = date(2026, 11, 1), date(2026, 11, 25)
SIZES = SCREEN_SIZES


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """Until the content area lists the view in VIEW_CLASSES, the tests register it themselves."""
    monkeypatch.setitem(contiple_tui.screens.menu_views.VIEW_CLASSES, "callback_status", CallbackStatusView)


async def open_view(pilot) -> CallbackStatusView:
    pilot.app.show_menu("callback_status")
    await pilot.pause()
    await settle(pilot)
    return pilot.app.query_one(CallbackStatusView)


async def set_filters(
    pilot, first: str | None = None, last: str | None = None, unit: str | None = None
) -> None:
    """As a person would: change the inputs, let the debounce pass, wait for the query."""
    view = pilot.app.query_one(CallbackStatusView)
    if first is not None:
        view.query_one("#cs-from", Input).value = first
    if last is not None:
        view.query_one("#cs-to", Input).value = last
    if unit is not None:
        view.query_one("#cs-unit", Select).value = unit
    await pilot.pause(DEBOUNCE_S + 0.15)
    await settle(pilot)


def rows_of(table: BoardTable) -> list[list[str]]:
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


def status_line(view: CallbackStatusView) -> str:
    return static_text(view.query_one("#cs-status", Static)).strip()


def expected_total(store, login: str, first: date, last: date, monthly: bool = False) -> list[str]:
    from contiple_tui.core.session import Session, resolve_user

    session = Session(store, resolve_user(store, login))
    periods, _ = cb.processing_status(store, session.user, session.service, first, last, monthly=monthly)
    requested = sum(p.requested for p in periods)
    assigned = sum(p.assigned for p in periods)
    completed = sum(p.completed for p in periods)
    return [
        f"{requested:,}",
        f"{assigned:,}",
        f"{completed:,}",
        f"{assigned - completed:,}",
        format_rate(None if assigned == 0 else completed / assigned * 100),
    ]


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ko", "en"])
async def test_totals_equal_the_core(demo_store, lang):
    app = make_app(demo_store, "admin", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        table = view.query_one("#cs-periods", BoardTable)
        labels = [str(col.label).replace("\n", " ") for col in table.columns.values()]
        if lang == "ko":
            assert labels == ["기간", "요청", "할당", "완료", "미처리", "처리율"]
        else:
            assert labels == [
                "Period",
                "Requested",
                "Assigned",
                "Completed",
                "Not processed",
                "Processing rate",
            ]
        rows = rows_of(table)
        assert len(rows) == 25 + 1  # every day of the period, then the total
        assert rows[0][0].startswith("2026-11-01") and rows[24][0].startswith("2026-11-25")
        assert rows[-1][0] == t("cs.total")
        total = expected_total(demo_store, "admin", NOV_1, NOV_25)
        assert rows[-1][1:] == total
        assert int(total[0]) > 0 and "%" in total[-1]  # the demo has work in November
        line = status_line(view)  # the totals on the status line too, readable without scrolling
        assert total[0] in line and total[2] in line and total[-1] in line


async def test_default_period_is_the_last_30_days_by_the_app_clock(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        assert view.query_one("#cs-from", Input).value == "2026-10-27"  # FIXED_NOW is 2026-11-25 in Seoul
        assert view.query_one("#cs-to", Input).value == "2026-11-25"
        assert view.query_one("#cs-periods", BoardTable).row_count == 30 + 1
        rows = rows_of(view.query_one("#cs-periods", BoardTable))
        assert rows[-1][1:] == expected_total(demo_store, "admin", date(2026, 10, 27), NOV_25)


async def test_monthly_granularity_gives_month_rows(demo_store):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-10-01", "2026-11-25", "month")
        table = view.query_one("#cs-periods", BoardTable)
        rows = rows_of(table)
        assert [r[0] for r in rows] == ["2026-10", "2026-11", "합계"]
        assert table.border_title == "월별 현황"
        assert rows[-1][1:] == expected_total(demo_store, "admin", date(2026, 10, 1), NOV_25, monthly=True)
        # each month row is the core's month row
        from contiple_tui.core.session import Session, resolve_user

        session = Session(demo_store, resolve_user(demo_store, "admin"))
        periods, _ = cb.processing_status(
            demo_store, session.user, session.service, date(2026, 10, 1), NOV_25, monthly=True
        )
        assert [(p.period, f"{p.assigned:,}") for p in periods] == [(r[0], r[2]) for r in rows[:-1]]
        assert status_line(view).startswith("합계: 요청 ")


async def test_agent_breakdown_matches_the_core(demo_store):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        table = view.query_one("#cs-agents", BoardTable)
        labels = [str(col.label).replace("\n", " ") for col in table.columns.values()]
        assert labels == ["상담원", "할당", "완료", "미처리", "처리율"]
        from contiple_tui.core.session import Session, resolve_user

        session = Session(demo_store, resolve_user(demo_store, "admin"))
        _, agents = cb.processing_status(demo_store, session.user, session.service, NOV_1, NOV_25)
        assert agents
        assert rows_of(table) == [
            [
                user.name,
                f"{row.assigned:,}",
                f"{row.completed:,}",
                f"{row.not_processed:,}",
                format_rate(row.rate),
            ]
            for user, row in agents
        ]


# -- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ko", "en"])
async def test_reversed_range_says_so_and_keeps_the_table(demo_store, lang):
    app = make_app(demo_store, "admin", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        table = view.query_one("#cs-periods", BoardTable)
        before = rows_of(table)
        chart_before = static_text(view.query_one("#cs-chart", Static))
        await set_filters(pilot, last="2026-10-15")
        line = status_line(view)
        assert t("err.date_range_reversed") in line
        assert ("거꾸로" in line) if lang == "ko" else ("reversed" in line)
        assert view.query_one("#cs-status").has_class("-error")
        assert rows_of(table) == before
        assert static_text(view.query_one("#cs-chart", Static)) == chart_before
        # Put right again: the line tells the totals again.
        await set_filters(pilot, last="2026-11-25")
        assert not view.query_one("#cs-status").has_class("-error")
        assert rows_of(table) == before


@pytest.mark.parametrize(
    "first, last, unit, says",
    [
        ("2026-13-01", "2026-11-25", None, "'2026-13-01'은 날짜가 아닙니다"),
        ("2026-11-01", "2026-11", None, "'2026-11'은 날짜가 아닙니다"),
        ("", "2026-11-25", None, "시작일과 종료일을 모두 입력하세요"),
        ("2020-01-01", "2026-11-25", None, f"최대 {MAX_DAYS}일"),
        ("2000-01-01", "2026-11-25", "month", "최대 120개월"),
    ],
)
async def test_bad_filters_are_explained(demo_store, first, last, unit, says):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        before = rows_of(view.query_one("#cs-periods", BoardTable))
        await set_filters(pilot, first, last, unit)
        line = status_line(view)
        assert line.startswith("⚠") and says in line, line
        assert rows_of(view.query_one("#cs-periods", BoardTable)) == before


async def test_enter_applies_at_once(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        box = view.query_one("#cs-from", Input)
        box.focus()
        box.value = "2026-11-20"
        await pilot.press("enter")
        await settle(pilot)
        assert view.query_one("#cs-periods", BoardTable).row_count == 6 + 1


# -- live updates -------------------------------------------------------------------------------


async def test_reload_counts_again_after_a_completion(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        table = view.query_one("#cs-periods", BoardTable)
        completed_before = int(rows_of(table)[-1][3].replace(",", ""))
        session = app.session
        open_one = cb.search(
            demo_store,
            session.user,
            session.service,
            cb.CallbackQuery(date_from=NOV_1, date_to=NOV_25, status="assigned"),
            limit=1,
        )
        assert open_one
        assert cb.complete(demo_store, session.user, session.service, [open_one[0].id]) == 1
        view.reload()  # what the app does when the store changed in any console
        await settle(pilot)
        assert int(rows_of(table)[-1][3].replace(",", "")) == completed_before + 1


async def test_reload_while_hidden_waits_until_shown(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        table = view.query_one("#cs-periods", BoardTable)
        completed_before = int(rows_of(table)[-1][3].replace(",", ""))
        app.show_menu("home")
        await pilot.pause()
        session = app.session
        open_one = cb.search(
            demo_store,
            session.user,
            session.service,
            cb.CallbackQuery(date_from=NOV_1, date_to=NOV_25, status="assigned"),
            limit=1,
        )
        cb.complete(demo_store, session.user, session.service, [open_one[0].id])
        view.reload()
        await settle(pilot)
        assert int(rows_of(table)[-1][3].replace(",", "")) == completed_before  # hidden: not yet
        app.show_menu("callback_status")
        await pilot.pause()
        await settle(pilot)
        assert int(rows_of(table)[-1][3].replace(",", "")) == completed_before + 1


async def test_refusal_is_shown_to_a_non_admin(demo_store):
    """The menu is hidden from agents; if the view is ever reached, the core's refusal is shown."""
    app = make_app(demo_store, "agent01", lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        view = CallbackStatusView(MENU_BY_ID["callback_status"], app.session)
        switcher = app.query_one(ContentSwitcher)
        await switcher.mount(view)
        switcher.current = view.id
        await pilot.pause()
        await settle(pilot)
        line = status_line(view)
        assert line.startswith("⚠") and t("action.view_processing_status") in line
        assert view.query_one("#cs-periods", BoardTable).row_count == 0


# -- chart ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_chart_has_a_line_per_period(demo_store, size):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=size) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        chart = view.query_one("#cs-chart", Static)
        lines = [line for line in static_text(chart).splitlines() if line.strip()]
        assert lines[0].strip().startswith(f"{DONE} 완료") and f"{OPEN} 미처리" in lines[0]
        bars = lines[1:]
        assert len(bars) == 25
        rows = rows_of(view.query_one("#cs-periods", BoardTable))[:-1]
        for line, row in zip(bars, rows):
            assert line.startswith(row[0][5:10])  # "11-01 일" beside "2026-11-01 (일)"
            assert (
                f"{DONE} {row[3]}" in line and f"{OPEN} {row[4]}" in line and line.rstrip().endswith(row[5])
            )
            if row[4] != "0":
                assert OPEN in line.split(f"{DONE} {row[3]}")[0]  # the open part is drawn, not only counted
        # The chart fits the width it is given: nothing cut off at the right.
        assert chart.content_region.width < size[0]
        rendered = view.query_one("#cs-chart-box").border_subtitle
        assert "최대" in rendered


async def test_monthly_chart_uses_month_labels(demo_store):
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-10-01", "2026-11-25", "month")
        lines = [
            line for line in static_text(view.query_one("#cs-chart", Static)).splitlines() if line.strip()
        ]
        assert lines[1].startswith("2026-10") and lines[2].startswith("2026-11") and len(lines) == 3


async def test_wide_terminal_puts_the_chart_beside_the_day_table(demo_store):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        assert view.has_class("-cs-wide")
        table = view.query_one("#cs-periods", BoardTable)
        chart = view.query_one("#cs-chart", Static)
        assert chart.region.x > table.region.right
        # The first bar is on the same screen row as the first day.
        first_row_y = table.region.y + 1 + table.header_height  # border, header, then the rows
        first_bar_y = chart.region.y + table.header_height  # legend as tall as the header
        assert first_row_y == first_bar_y
    narrow = make_app(demo_store, "admin", lang="ko")
    async with narrow.run_test(size=(80, 24)) as pilot:
        view = await open_view(pilot)
        assert not view.has_class("-cs-wide")


def test_empty_period_chart_says_so():
    from rich.console import Console

    from contiple_tui.screens.callback_status import chart_renderable

    console = Console(width=60, record=True, file=io.StringIO())
    console.print(chart_renderable([cb.StatusRow("2026-11-01", 3, 0, 0)], None, None, short_labels=True))
    assert t("cs.chart.empty") in console.export_text()


@given(st.integers(0, 500), st.integers(0, 500), st.integers(1, 200))
def test_bar_is_proportional_and_never_hides_a_part(done, open_, width):
    scale = max(1, done + open_) + 3
    d, o = bar_cells(done, open_, scale, width)
    assert d + o <= width
    assert (d > 0) == (done > 0) or width < 2
    if width >= 2:
        assert (o > 0) == (open_ > 0)
        assert d + o >= 1 if done + open_ else d + o == 0
    assert abs((d + o) - (done + open_) / scale * width) <= 1.5 or width < 2


def test_every_day_is_a_row_even_without_requests():
    query = StatusQuery(date(2026, 11, 28), date(2026, 12, 2), False)
    rows = fill_periods(query, [cb.StatusRow("2026-11-30", 2, 1, 1)])
    assert [r.period for r in rows] == ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
    assert [r.requested for r in rows] == [0, 0, 2, 0, 0]
    assert period_keys(date(2025, 11, 15), date(2026, 2, 1), True) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert len(period_keys(date(2024, 1, 1), date(2024, 12, 31), False)) == MAX_DAYS


# -- export key -----------------------------------------------------------------------------------


async def test_x_exports_the_period_on_screen(demo_store):
    app = make_app(demo_store, "admin")
    calls = []
    app.exports.processing_status = lambda first, last, monthly: calls.append((first, last, monthly))
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        await set_filters(pilot, "2026-10-01", "2026-11-25", "month")
        view.focus()
        await pilot.press("x")
        assert calls == [(date(2026, 10, 1), NOV_25, True)]


async def test_x_without_an_exporter_does_nothing(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_view(pilot)
        view.focus()
        await pilot.press("x")
        await pilot.pause()
        assert app.current_menu_id == "callback_status"
        binding = next(b for b in view._bindings.key_to_bindings["x"])
        assert binding.id == "callback_status.export" and binding.description == t("key.export")


# -- snapshots ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_snapshot(snap_compare, demo_store, lang, size):
    app = make_app(demo_store, "admin", lang=lang)

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.show_menu("callback_status")
        await pilot.pause()
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        pilot.app.query_one(CallbackStatusView).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_snapshot_chart_at_80x24(snap_compare, demo_store, lang):
    """The chart at 80x24, scrolled into view: bars, glyph legend and numbers within the width."""
    app = make_app(demo_store, "admin", lang=lang)

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.show_menu("callback_status")
        await pilot.pause()
        await set_filters(pilot, "2026-11-01", "2026-11-25")
        view = pilot.app.query_one(CallbackStatusView)
        view.focus()
        view.scroll_to_widget(view.query_one("#cs-chart-box"), top=True, animate=False)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
