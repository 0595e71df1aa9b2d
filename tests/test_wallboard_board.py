"""The wallboard's boards: their fast ways of drawing give exactly what the general ones give."""

from __future__ import annotations

import random

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from contiple_tui.widgets.live_board import LiveBoard
from contiple_tui.widgets.wallboard_panel import AGENT_COLUMNS, SERVICE_COLUMNS

STYLES = ["", "bold", "bold yellow", "bold reverse red", Style(bold=True, color="green"), Style()]
CHARACTERS = "0123456789 :%.—…abcXYZ고객센터영업팀합계상담원대기"


class BoardApp(App[None]):
    AUTO_FOCUS = None
    CSS = "LiveBoard { height: auto; overflow-x: auto; }"  # as on the wallboard

    def __init__(self, columns) -> None:
        super().__init__()
        self.columns = columns

    def compose(self) -> ComposeResult:
        yield LiveBoard(self.columns, cursor=True)


def random_cell(rng: random.Random) -> str | Text:
    plain = "".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(0, 14)))
    if rng.random() < 0.3:
        return plain
    return Text(plain, style=rng.choice(STYLES), justify=rng.choice(["right", "left"]))


async def test_fast_row_rendering_matches_the_general_path():
    """`_render_row` lays rows out itself; `_render_text(_line(...))` is the path a Static takes (and
    the one the snapshots were taken with). Every segment, style and offset must be the same."""
    rng = random.Random(20261125)
    for columns in (SERVICE_COLUMNS, AGENT_COLUMNS):
        app = BoardApp([(key, label, width) for key, label, width in columns])
        async with app.run_test(size=(120, 20)):
            board = app.query_one(LiveBoard)
            for _ in range(300):
                cells = tuple(random_cell(rng) for _ in columns)
                for selected in (False, True):
                    fast = list(board._render_row(cells, selected))
                    general = list(
                        board._render_text(board._line(cells, selected=selected), board.visual_style)
                    )
                    assert fast == general, (cells, selected)


async def test_cells_with_spans_of_their_own_take_the_general_path():
    app = BoardApp([(key, label, width) for key, label, width in SERVICE_COLUMNS])
    async with app.run_test(size=(120, 20)):
        board = app.query_one(LiveBoard)
        cells = (Text.assemble(("고객", "bold red"), "센터"),) + ("1",) * (len(SERVICE_COLUMNS) - 1)
        general = list(board._render_text(board._line(cells), board.visual_style))
        assert list(board._render_row(cells, False)) == general
        assert any(segment.style.bold and segment.text.startswith("고객") for segment in general)


def _line_text_and_reverse(board: LiveBoard, y: int) -> tuple[str, bool]:
    strip = board.render_lines(Region(0, y, board.size.width, 1))[0]
    return strip.text, any(segment.style.reverse for segment in strip if segment.text.strip())


async def test_cursor_moves_over_the_rows_and_only_when_focused():
    app = BoardApp([("name", "Service", 8), ("waiting", "Waiting", 5)])
    async with app.run_test(size=(40, 10)) as pilot:
        board = app.query_one(LiveBoard)
        board.set_rows([("cs", ("고객센터", "2")), ("sales", ("영업팀", "0")), ("__total__", ("Total", "2"))])
        await pilot.pause()
        first = board.header_height
        assert not board.has_focus
        text, reverse = _line_text_and_reverse(board, first)
        assert text.rstrip() == board._line(("고객센터", "2")).plain.rstrip() and not reverse
        board.focus()
        await pilot.pause()
        assert _line_text_and_reverse(board, first)[1]
        await pilot.press("down")
        assert board.cursor_row == 1
        assert not _line_text_and_reverse(board, first)[1]
        assert _line_text_and_reverse(board, first + 1)[1]
        await pilot.press("down", "down")
        assert board.cursor_row == 2 and board.key_at(board.cursor_row) == "__total__"
        board.blur()
        await pilot.pause()
        assert not any(_line_text_and_reverse(board, first + i)[1] for i in range(3))


async def test_rows_appear_change_and_go():
    app = BoardApp([("name", "Service", 8), ("waiting", "Waiting", 5)])
    async with app.run_test(size=(40, 10)) as pilot:
        board = app.query_one(LiveBoard)
        board.set_rows([("cs", ("고객센터", "2"))])
        await pilot.pause()
        assert board.region.height == board.header_height + 1
        board.set_rows([("cs", ("고객센터", "3")), ("sales", ("영업팀", "0"))])
        await pilot.pause()
        assert board.region.height == board.header_height + 2
        assert _line_text_and_reverse(board, board.header_height)[0].startswith(
            board._line(("고객센터", "3")).plain
        )
        board.set_rows([("sales", ("영업팀", "1")), ("cs", ("고객센터", "3"))])  # same count, new order
        await pilot.pause()
        assert _line_text_and_reverse(board, board.header_height)[0].startswith(
            board._line(("영업팀", "1")).plain
        )
        board.set_rows([])
        await pilot.pause()
        assert board.region.height == board.header_height and board.row_count == 0


async def test_a_board_wider_than_the_terminal_scrolls_sideways():
    app = BoardApp([(key, label, width) for key, label, width in AGENT_COLUMNS])
    async with app.run_test(size=(30, 10)) as pilot:
        board = app.query_one(LiveBoard)
        board.set_rows([("cs", ("고객센터",) + tuple(str(n) for n in range(1, len(AGENT_COLUMNS))))])
        await pilot.pause()
        assert board.show_horizontal_scrollbar and board.virtual_size.width == board.line_width > 30
        row = board.header_height
        assert _line_text_and_reverse(board, row)[0].startswith(" 고객센터 ")
        board.scroll_to(x=board.line_width, animate=False)
        await pilot.pause()
        assert _line_text_and_reverse(board, row)[0].rstrip().endswith(f" {len(AGENT_COLUMNS) - 1}")


class BigBoardApp(App[None]):
    AUTO_FOCUS = None
    CSS = "#wrap.-stale BigColumn { text-opacity: 50%; }"  # as the wallboard dims a stale board

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        from contiple_tui.widgets.big_board import BigBoard

        with Vertical(id="wrap"):
            yield BigBoard([(key, label) for key, label, _ in SERVICE_COLUMNS])


@pytest.mark.parametrize("no_color", [False, True])
async def test_big_columns_draw_what_the_styles_cache_draws(monkeypatch, no_color):
    """`BigColumn.render_lines` skips Textual's styles cache; live and stale (text opacity), in
    colour and with NO_COLOR (a line filter), whole and cut, its lines are the general path's."""
    from textual.widget import Widget

    from contiple_tui.widgets.big_board import BigBoard, BigColumn

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    rng = random.Random(20261206)
    app = BigBoardApp()
    async with app.run_test(size=(160, 45)) as pilot:
        board = app.query_one(BigBoard)
        for stale in (False, True, False):
            app.query_one("#wrap").set_class(stale, "-stale")
            for _ in range(5):
                rows = [
                    (
                        f"s{i}",
                        (Text(f"서비스{i}"),)
                        + tuple(
                            Text(str(rng.randrange(0, 10 ** rng.randrange(1, 5))), style=rng.choice(STYLES))
                            for _ in SERVICE_COLUMNS[1:]
                        ),
                    )
                    for i in range(3)
                ]
                assert board.show_rows(rows, app.size)
                await pilot.pause()
                for column in app.query(BigColumn):
                    width, height = column.size
                    for crop in (Region(0, 0, width, height), Region(1, 2, max(1, width - 2), height - 3)):
                        assert column.render_lines(crop) == Widget.render_lines(column, crop), (stale, crop)
        # The opacity is really applied: the same rows look different once the board is stale.
        looks = []
        for stale in (False, True):
            app.query_one("#wrap").set_class(stale, "-stale")
            await pilot.pause()
            column = app.query(BigColumn)[1]
            looks.append(column.render_lines(Region(0, 0, *column.size)))
        assert looks[0] != looks[1]
