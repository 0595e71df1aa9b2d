"""The wallboard's LiveBoard: its fast way of drawing a row gives exactly what the general one gives."""

from __future__ import annotations

import random

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult

from contiple_tui.widgets.live_board import LiveBoard
from contiple_tui.widgets.wallboard_panel import AGENT_COLUMNS, SERVICE_COLUMNS

STYLES = ["", "bold", "bold yellow", "bold reverse red", Style(bold=True, color="green"), Style()]
CHARACTERS = "0123456789 :%.—…abcXYZ고객센터영업팀합계상담원대기"


class BoardApp(App[None]):
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
                    general = list(board._render_text(board._line(cells, selected=selected), board.visual_style))
                    assert fast == general, (cells, selected)


async def test_cells_with_spans_of_their_own_take_the_general_path():
    app = BoardApp([(key, label, width) for key, label, width in SERVICE_COLUMNS])
    async with app.run_test(size=(120, 20)):
        board = app.query_one(LiveBoard)
        cells = (Text.assemble(("고객", "bold red"), "센터"),) + ("1",) * (len(SERVICE_COLUMNS) - 1)
        general = list(board._render_text(board._line(cells), board.visual_style))
        assert list(board._render_row(cells, False)) == general
        assert any(segment.style.bold and segment.text.startswith("고객") for segment in general)
