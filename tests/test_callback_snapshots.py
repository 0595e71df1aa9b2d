"""Snapshots of the callback screens at 80x24 and 160x45 in Korean and English.

The demo data is seeded at a fixed moment; the period inputs are set to fixed dates so that the
snapshots do not depend on the day the tests run.
"""

import pytest
from textual.widgets import Input

from .apphelpers import SCREEN_SIZES, make_app, size_id, workers_done

SIZES = SCREEN_SIZES
PERIOD = {"list": ("#cb-from", "#cb-to"), "assign": ("#as-from", "#as-to")}


async def _open(pilot, menu: str, inputs: tuple[str, str] | None) -> None:
    pilot.app.show_menu(menu)
    await pilot.pause()
    if inputs:
        pilot.app.query_one(inputs[0], Input).value = "2026-11-01"
        pilot.app.query_one(inputs[1], Input).value = "2026-11-25"
        await pilot.pause(0.4)  # the debounce
    # On a busy machine the debounce timer can fire late: wait until none is pending and the search done.
    view = pilot.app.query_one(f"#view-{menu}")
    for _ in range(100):
        await workers_done(pilot.app)
        await pilot.pause(0.2)  # the capture: the last redraw lands
        # (the callback list clears its _debounce when the timer fires; the other views search directly)
        pending = menu == "callback_list" and view._debounce is not None
        if not pending and all(w.is_finished for w in pilot.app.workers):
            break
    await pilot.pause(0.2)  # the capture: the last redraw lands


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize(
    "menu, login, period",
    [
        ("callback_list", "agent02", "list"),
        ("callback_assign", "agent01", "assign"),
        ("callback_unassign", "admin", None),
    ],
)
def test_callback_screen(snap_compare, demo_store, menu, login, period, lang, size):
    app = make_app(demo_store, login, lang=lang)

    async def run_before(pilot):
        await _open(pilot, menu, PERIOD.get(period))

    assert snap_compare(app, terminal_size=size, run_before=run_before)
