"""Snapshots of 2-2 SMS 발송 at 80x24 and 160x45 in Korean and English (a body over 90 bytes with an
emoji, so the counter, the flagged character and the MMS offer show), and of the preview."""

import pytest
from textual.widgets import Input

from .apphelpers import SCREEN_SIZES, make_app, size_id, until

SIZES = SCREEN_SIZES


async def _fill(pilot) -> None:
    app = pilot.app
    app.show_menu("sms_compose")
    await pilot.pause()
    app.query_one(
        "#sms-body"
    ).text = (
        "[고객센터] 주문하신 상품이 오늘 출발했습니다 🚚 내일 도착 예정이며, 문의는 1588-0001로 연락 주세요."
    )
    app.query_one("#sms-recipients", Input).value = "01012345678,0212345678,01012345678"
    await pilot.pause()
    app.query_one("#sms-recipients", Input).focus()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_composer(snap_compare, demo_store, lang, size):
    app = make_app(demo_store, "agent02", lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=_fill)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_preview(snap_compare, demo_store, lang):
    app = make_app(demo_store, "agent02", lang=lang)

    async def run_before(pilot):
        await _fill(pilot)
        app.query_one("#sms-body").text = "[고객센터] 주문하신 상품이 오늘 출발했습니다."
        await pilot.pause()
        app.query_one("#view-sms_compose").action_preview()
        await until(pilot, lambda: app.screen.query("#preview-send"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
