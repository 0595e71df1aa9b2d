"""Snapshots of the shell at 80x24 and 160x45, in Korean and English, for an admin and an agent.

Review new snapshots with `pytest --snapshot-report` before accepting them (`--snapshot-update`).
"""

import pytest

from .apphelpers import SCREEN_SIZES, make_app, settle, size_id

SIZES = SCREEN_SIZES


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("login", ["admin", "agent02"])
def test_shell(snap_compare, demo_store, login, lang, size):
    app = make_app(demo_store, login, lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_service_switcher(snap_compare, demo_store, lang):
    app = make_app(demo_store, "agent01", lang=lang)

    async def open_switcher(pilot):
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_switcher)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_composer_with_key_help(snap_compare, demo_store, lang):
    app = make_app(demo_store, "admin", lang=lang)

    async def open_menu(pilot):
        await settle(pilot)
        pilot.app.show_menu("sms_compose")
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 45), run_before=open_menu)
