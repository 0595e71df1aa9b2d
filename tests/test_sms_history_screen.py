"""Pilot and snapshot tests of 2-3 SMS history: scope, filters, paging, detail, cancel, refresh, Excel.

Sends are made with the real core and the sandbox gateway. Everything shown is deterministic: sends
are made at fixed times around FIXED_NOW and the app's clock is frozen there, except where a
cancel must happen before the real clock reaches the reservation (those tests give the app the real
clock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from textual.widgets import Button, Input, Select

from contiple_tui.core import sms
from contiple_tui.domain.images import check_image_bytes
from contiple_tui.domain.sms_models import MessageStatus
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.screens.export_progress import ExportScreen
from contiple_tui.screens.sms_history import (
    ConfirmCancelScreen,
    RecipientTable,
    SendTable,
    SmsDetailScreen,
    SmsHistoryView,
)
from contiple_tui.sms.gateway import SandboxGateway

from .apphelpers import SCREEN_SIZES, make_app, size_id, static_text, until, workers_done
from .conftest import FIXED_NOW
from .smsdata import jpeg_bytes

SEOUL = ZoneInfo("Asia/Seoul")


def real_now() -> datetime:
    return datetime.now(UTC)


def send(
    store,
    login: str,
    to: str,
    body: str = "[고객센터] 주문하신 상품이 출발했습니다.",
    *,
    ago: int = 0,
    reserve_in: timedelta | None = None,
    now: datetime = FIXED_NOW,
    send_type: SendType = SendType.SMS,
    title: str = "",
    images=(),
    sender: str = "15880001",
    template_id: int | None = None,
) -> int:
    """One send through the core and the sandbox, made ``ago`` minutes before ``now``."""
    user = store.users.get_by_login(login)
    cs = store.services.get_by_code("cs")
    at = (now - timedelta(minutes=ago)).astimezone(SEOUL)
    reserve = "" if reserve_in is None else (at + reserve_in).strftime("%Y-%m-%d %H:%M")
    draft = sms.Draft(
        send_type=send_type,
        sender_no=sender,
        body=body,
        recipients=to,
        title=title,
        images=tuple(images),
        reserve=reserve,
        template_id=template_id,
    )
    prepared = sms.prepare(store, user, cs, draft, now=at)
    return sms.send(store, user, cs, prepared, SandboxGateway(cs.sender_numbers), now=at).message_id


def status_of(store, message_id: int) -> MessageStatus:
    return store.sms.get_message(message_id).status


def sends_table(app) -> SendTable:
    return app.query_one(SendTable)


def shown_ids(app) -> list[int]:
    return [m.id for m in sends_table(app).sends]


def status_line(app) -> str:
    return static_text(app.query_one("#smsh-status-line"))


async def open_history(pilot, expected: int | None = None) -> SmsHistoryView:
    """Open 2-3, wait for the first page (and its count), give the sends table the keys."""
    app = pilot.app
    app.show_menu("sms_history")
    await until(
        pilot,
        lambda: (
            bool(app.query(SmsHistoryView))
            and app.query_one(SmsHistoryView)._total is not None
            and app.query_one(SmsHistoryView)._ready
        ),
    )  # typing in the filters searches from now on
    if expected is not None:
        await until(pilot, lambda: len(shown_ids(app)) == expected)
    sends_table(app).focus()
    return app.query_one(SmsHistoryView)


async def set_filter(pilot, selector: str, value) -> None:
    """Set one filter and wait for the search it starts (typing is debounced)."""
    view = pilot.app.query_one(SmsHistoryView)
    before = view.searches
    view.query_one(selector).value = value
    await until(pilot, lambda: view.searches > before)
    await until(pilot, lambda: view._total is not None or view._error is not None)
    await workers_done(pilot.app)
    await pilot.pause()


async def point_at(pilot, message_id: int) -> None:
    """Move the sends cursor to a send and wait for its recipients."""
    table = sends_table(pilot.app)
    table.move_cursor(row=shown_ids(pilot.app).index(message_id))
    recipients = pilot.app.query_one(RecipientTable)
    await until(pilot, lambda: recipients.message is not None and recipients.message.id == message_id)


# -- scope ------------------------------------------------------------------------------------------


async def test_admin_sees_every_send_an_agent_only_their_own(demo_store):
    mine = send(demo_store, "agent02", "01012345678", ago=30)
    other = send(demo_store, "agent05", "01022223333", ago=20)
    admins = send(demo_store, "admin", "01044445555", ago=10)

    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        await open_history(pilot, expected=3)
        assert shown_ids(app) == [admins, other, mine]  # newest first
        assert "1–3 of 3 sends" in status_line(app)

    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_history(pilot, expected=1)
        assert shown_ids(app) == [mine]
        assert view.filter.user_id == demo_store.users.get_by_login("agent02").id
        assert "1건 중 1–1" in status_line(app)


# -- filters ----------------------------------------------------------------------------------------


async def test_each_filter(demo_store):
    sms_one = send(demo_store, "admin", "01012345678,01099998888", ago=60 * 24 * 3)  # three days ago
    mms_one = send(
        demo_store,
        "admin",
        "01055556666",
        body="긴 안내문",
        send_type=SendType.MMS,
        title="안내",
        sender="0212345678",
        ago=60,
    )
    reserved = send(demo_store, "admin", "01077778888", ago=30, reserve_in=timedelta(hours=2))

    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        await open_history(pilot, expected=3)
        await set_filter(pilot, "#smsh-type", "MMS")
        assert shown_ids(app) == [mms_one]
        await set_filter(pilot, "#smsh-type", "SMS")
        assert shown_ids(app) == [reserved, sms_one]
        await set_filter(pilot, "#smsh-type", Select.NULL)
        await set_filter(pilot, "#smsh-status", "reserved")
        assert shown_ids(app) == [reserved]
        await set_filter(pilot, "#smsh-status", "sent")
        assert shown_ids(app) == [mms_one, sms_one]
        await set_filter(pilot, "#smsh-status", Select.NULL)
        await point_at(pilot, sms_one)  # its recipients on screen, the first one chosen
        await set_filter(pilot, "#smsh-recipient", "9999")  # the second recipient of a send finds it
        assert shown_ids(app) == [sms_one]
        recipients = app.query_one(RecipientTable)
        await until(pilot, lambda: recipients.message is not None and recipients.message.id == sms_one)
        await until(pilot, lambda: recipients.current.recipient_no == "01099998888")  # the match is chosen
        await set_filter(pilot, "#smsh-recipient", "")
        await set_filter(pilot, "#smsh-sender", "021234")
        assert shown_ids(app) == [mms_one]
        await set_filter(pilot, "#smsh-sender", "")
        assert len(shown_ids(app)) == 3
        await set_filter(pilot, "#smsh-from", "2026-11-24")  # the period: from yesterday
        assert shown_ids(app) == [reserved, mms_one]
        await set_filter(pilot, "#smsh-to", "2026-11-22")  # inclusive: the day of the first send
        await set_filter(pilot, "#smsh-from", "2026-11-22")
        assert shown_ids(app) == [sms_one]


async def test_reversed_or_malformed_period_is_explained(demo_store):
    send(demo_store, "agent02", "01012345678", ago=30)
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        app.query_one("#smsh-from", Input).value = "2026-11-25"
        await set_filter(pilot, "#smsh-to", "2026-11-01")
        assert "The period is reversed" in status_line(app)
        await set_filter(pilot, "#smsh-to", "2026-13-45")
        assert "'2026-13-45' is not a date" in status_line(app)
        await set_filter(pilot, "#smsh-to", "2026-11-25")
        assert "1–1 of 1 sends" in status_line(app)

    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        app.query_one("#smsh-from", Input).value = "2026-11-25"
        await set_filter(pilot, "#smsh-to", "2026-11-01")
        assert "기간" in status_line(app) and "⚠" in status_line(app)


# -- paging -----------------------------------------------------------------------------------------


async def test_a_page_at_a_time(demo_store):
    ids = [send(demo_store, "agent02", f"010{n:08d}", ago=n) for n in range(130)]  # ids[0] is the newest
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=100)
        table = sends_table(app)
        assert shown_ids(app) == ids[:100]  # never more than a page in the table
        assert "1–100 of 130 sends" in status_line(app)
        table.move_cursor(row=99)
        await pilot.press("down")  # past the last row: the next page
        await until(pilot, lambda: len(shown_ids(app)) == 30)
        assert shown_ids(app) == ids[100:]
        assert "101–130 of 130 sends" in status_line(app)
        await pilot.press("up")  # before the first row: back
        await until(pilot, lambda: len(shown_ids(app)) == 100)
        assert shown_ids(app) == ids[:100] and table.cursor_row == 99
        table.move_cursor(row=99)
        await pilot.press("pagedown")
        await until(pilot, lambda: len(shown_ids(app)) == 30)
        table.move_cursor(row=0)
        await pilot.press("pageup")
        await until(pilot, lambda: len(shown_ids(app)) == 100)


# -- columns ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["admin", "agent02"])
@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_narrow_terminals_drop_the_less_important_columns(demo_store, login, lang):
    send(demo_store, "agent02", "01012345678", ago=30)
    essential = {"created", "type", "to", "status"}
    app = make_app(demo_store, login, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_history(pilot, expected=1)
        table = sends_table(app)
        await until(pilot, lambda: essential <= set(table.column_keys))
        assert not {"content", "sender"} & set(table.column_keys)
        widths = [c.width + 2 * table.cell_padding for c in table.columns.values()]
        assert sum(widths) <= table.size.width  # nothing cut off at the right
        await pilot.resize_terminal(160, 45)
        everything = {"id", "created", "reserved", "type", "sender", "to", "content", "status"}
        everything |= {"user"} if login == "admin" else set()  # an agent's sends are all their own
        await until(pilot, lambda: set(table.column_keys) == everything)
        assert table.current is not None  # the rows came back with the columns


# -- detail -----------------------------------------------------------------------------------------


async def test_recipient_detail(demo_store):
    admin = demo_store.users.get_by_login("admin")
    cs = demo_store.services.get_by_code("cs")
    top = sms.add_category(demo_store, admin, cs, "안내")
    sub = sms.add_category(demo_store, admin, cs, "배송", parent_id=top)
    photo = check_image_bytes("photo.jpg", jpeg_bytes(200, 150))
    body = "문 앞에 두었습니다.\n감사합니다."
    tpl = sms.save_template(
        demo_store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=sub, name="배송 사진 안내", send_type=SendType.MMS, title="배송 완료", body=body
        ),
    )
    sent = send(
        demo_store,
        "agent02",
        "01012345678,0212345678",
        send_type=SendType.MMS,
        title="배송 완료",
        body=body,
        images=[photo],
        template_id=tpl,
        ago=5,
    )

    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_history(pilot, expected=1)
        await point_at(pilot, sent)
        await pilot.press("enter")  # Enter on a send: its recipients take the keys
        recipients = app.query_one(RecipientTable)
        await until(pilot, lambda: recipients.has_focus)
        await pilot.press("down", "enter")  # the second recipient
        await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
        text = static_text(app.screen.query_one("#smsh-detail-body"))
        title = static_text(app.screen.query_one("#smsh-detail-title"))
        assert f"#{sent}" in title and "02-1234-5678" in title
        for expected in (
            "배송 사진 안내",
            "MMS",
            "1588-0001",
            "서서윤",
            "2026-11-25 10:25:00",
            "배송 완료",
            "문 앞에 두었습니다.",
            "감사합니다.",
            "Sent",
            "SANDBOX-",
            "SANDBOX (nothing left this machine)",
        ):
            assert expected in text, expected
        kb = f"{len(photo.data) / 1024:,.1f}"
        assert f"photo.jpg · {kb} KB · 200×150 px" in text
        assert "Reserved for" not in text and not app.screen.query(
            "#smsh-detail-cancel"
        )  # sent: nothing to cancel
        assert app.screen.query("#smsh-detail-sandbox")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SmsDetailScreen))

        sends_table(app).focus()
        await pilot.press("i")  # from the sends too: the recipient chosen in the pane
        await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
        assert "02-1234-5678" in static_text(app.screen.query_one("#smsh-detail-title"))

    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_history(pilot, expected=1)
        await pilot.press("i")  # nothing chosen in the pane yet: its first recipient
        await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
        assert "010-1234-5678" in static_text(app.screen.query_one("#smsh-detail-title"))
        text = static_text(app.screen.query_one("#smsh-detail-body"))
        assert "템플릿" in text and "발송 완료" in text and "200×150 픽셀" in text and "발송 경로" in text


# -- cancel -----------------------------------------------------------------------------------------


async def test_cancel_a_reservation_after_confirming(demo_store):
    now = real_now()  # the core refuses a reservation whose real time has passed
    sent = send(demo_store, "agent02", "01012345678", now=now, ago=2)
    reserved = send(
        demo_store, "agent02", "01055556666,01077778888", now=now, ago=1, reserve_in=timedelta(hours=2)
    )

    app = make_app(demo_store, "agent02", lang="en")
    app.clock = real_now
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_history(pilot, expected=2)
        cancel = app.query_one("#smsh-cancel", Button)
        await point_at(pilot, sent)
        assert not cancel.display and not view.check_action("cancel_reservation", ())
        await pilot.press("c")  # refused, nothing asked
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmCancelScreen)

        await point_at(pilot, reserved)
        assert cancel.display and view.check_action("cancel_reservation", ())
        assert "reserved for" in static_text(app.query_one("#smsh-rcpt-title"))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        question = static_text(app.screen.query_one("#smsh-confirm-text"))
        assert f"#{reserved}" in question and "(2)" in question and "sandbox" in question
        await pilot.press("escape")  # keep it
        await until(pilot, lambda: not isinstance(app.screen, ConfirmCancelScreen))
        assert status_of(demo_store, reserved) is MessageStatus.RESERVED

        await pilot.click("#smsh-cancel")  # the button asks the same
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.click("#smsh-confirm-yes")
        await until(pilot, lambda: status_of(demo_store, reserved) is MessageStatus.CANCELLED)
        states = {r.state for r in demo_store.sms.recipients(reserved)}
        assert states == {"cancelled"}
        table = sends_table(app)
        await until(
            pilot, lambda: table.current is not None and table.current.status is MessageStatus.CANCELLED
        )
        await until(pilot, lambda: not cancel.display)
        await until(pilot, lambda: any("cancelled for 2 recipients" in n.message for n in app._notifications))
        assert status_of(demo_store, sent) is MessageStatus.SENT


async def test_cancel_from_the_detail_and_not_for_others(demo_store):
    now = real_now()
    theirs = send(demo_store, "agent05", "01012345678", now=now, ago=3, reserve_in=timedelta(hours=3))
    mine = send(demo_store, "agent02", "01055556666", now=now, ago=1, reserve_in=timedelta(hours=2))

    app = make_app(demo_store, "agent02", lang="ko")
    app.clock = real_now
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_history(pilot, expected=1)
        assert shown_ids(app) == [mine]  # someone else's send is not even listed
        assert not view.may_cancel(demo_store.sms.get_message(theirs))  # nor could it be cancelled here
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
        assert "예약 일시" in static_text(app.screen.query_one("#smsh-detail-body"))
        await pilot.click("#smsh-detail-cancel")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.click("#smsh-confirm-yes")
        await until(pilot, lambda: status_of(demo_store, mine) is MessageStatus.CANCELLED)
    assert status_of(demo_store, theirs) is MessageStatus.RESERVED

    app = make_app(demo_store, "admin", lang="en")  # an admin may cancel anyone's reservation
    app.clock = real_now
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=2)
        await point_at(pilot, theirs)
        assert app.query_one("#smsh-cancel", Button).display
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.click("#smsh-confirm-yes")
        await until(pilot, lambda: status_of(demo_store, theirs) is MessageStatus.CANCELLED)


# -- keeping statuses current -----------------------------------------------------------------------


async def test_a_due_sandbox_reservation_becomes_sent(demo_store):
    due = send(demo_store, "agent02", "01012345678", ago=0, reserve_in=timedelta(hours=1))
    app = make_app(demo_store, "agent02", lang="en")
    app.clock = lambda: FIXED_NOW + timedelta(hours=2)  # the reservation's time has come
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        await until(pilot, lambda: status_of(demo_store, due) is MessageStatus.SENT)
        table = sends_table(app)
        await until(pilot, lambda: table.current is not None and table.current.status is MessageStatus.SENT)
        assert not app.query_one("#smsh-cancel", Button).display


async def test_sandbox_is_said_plainly(demo_store):
    send(demo_store, "agent02", "01012345678")
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        badge = app.query_one("#smsh-sandbox")
        assert badge.display and "SANDBOX" in static_text(badge)
    app = make_app(demo_store, "agent02", lang="en")
    app.config.sms.gateway = "nhn"  # new sends go to NHN Cloud: no badge (old sandbox sends still say so)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        assert not app.query_one("#smsh-sandbox").display


# -- Excel ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lang, headers",
    [
        (
            "en",
            (
                "No.",
                "Sent at",
                "Reserved for",
                "Type",
                "Sender",
                "Sent by",
                "Template",
                "Title",
                "Content",
                "Send status",
                "Recipient",
                "Result",
                "Result code",
                "Result message",
                "Gateway",
                "Request ID",
            ),
        ),
        (
            "ko",
            (
                "번호",
                "발송 일시",
                "예약 일시",
                "유형",
                "발신번호",
                "발송자",
                "템플릿",
                "제목",
                "내용",
                "발송 상태",
                "수신번호",
                "결과",
                "결과 코드",
                "결과 메시지",
                "발송 경로",
                "요청 ID",
            ),
        ),
    ],
)
async def test_excel_has_a_row_per_recipient(demo_store, lang, headers):
    first = send(demo_store, "agent02", "01012345678,01022223333,0212345678", ago=60)
    second = send(demo_store, "agent02", "01055556666", ago=30, reserve_in=timedelta(hours=2))
    send(demo_store, "agent05", "01077778888", ago=10)  # not agent02's: not exported
    app = make_app(demo_store, "agent02", lang=lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=2)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        screen = app.screen
        await until(pilot, lambda: screen.done, timeout=30)
        path = screen.path
        assert path.parent == app.config.exports_dir and path.name.startswith("sms-history-cs-")
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == headers
    assert len(rows) == 1 + 4  # one per recipient of agent02's sends
    assert [r[0] for r in rows[1:]] == [second, first, first, first]
    assert [r[10] for r in rows[1:]] == ["010-5555-6666", "010-1234-5678", "010-2222-3333", "02-1234-5678"]
    assert rows[1][1] == datetime(2026, 11, 25, 10, 0) and rows[1][2] == datetime(2026, 11, 25, 12, 0)
    assert rows[2][1] == datetime(2026, 11, 25, 9, 30) and rows[2][2] is None
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:P5"
    assert rows[1][11] == ("Reserved" if lang == "en" else "예약")


async def test_a_send_made_in_another_console_appears(demo_store):
    first = send(demo_store, "agent02", "01012345678", ago=30)
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_history(pilot, expected=1)
        later = send(demo_store, "agent02", "01055556666", ago=10)  # the store changes under the console
        await until(pilot, lambda: shown_ids(app) == [later, first])
        await until(pilot, lambda: "1–2 of 2 sends" in status_line(app))


async def test_a_hidden_view_catches_up_when_shown(demo_store):
    first = send(demo_store, "agent02", "01012345678", ago=30)
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_history(pilot, expected=1)
        app.show_menu("home")
        await until(pilot, lambda: not view.display)
        later = send(demo_store, "agent02", "01055556666", ago=10)
        await until(pilot, lambda: view.stale)  # noted, not read while nobody looks
        assert shown_ids(app) == [first]
        app.show_menu("sms_history")
        await until(pilot, lambda: shown_ids(app) == [later, first])


def test_excel_keeps_the_history_scope(demo_store, tmp_path):
    """The export itself refuses an agent a filter wider than their own sends, before writing anything."""
    from contiple_tui.domain.queries import HistoryFilter
    from contiple_tui.errors import PermissionDenied
    from contiple_tui.export import export_sms_history

    send(demo_store, "agent05", "01077778888")
    agent = demo_store.users.get_by_login("agent02")
    cs = demo_store.services.get_by_code("cs")
    out = tmp_path / "exports" / "all.xlsx"
    out.parent.mkdir()
    with pytest.raises(PermissionDenied):
        export_sms_history(demo_store, agent, cs, HistoryFilter(), out, lang="en")
    assert list(out.parent.iterdir()) == []
    own = sms.history_filter(agent, cs)
    assert export_sms_history(demo_store, agent, cs, own, out, lang="en") == 0  # a header and nothing else
    assert [r for r in load_workbook(out).active.iter_rows(values_only=True)][1:] == []


# -- through NHN Cloud (the local NHN-compatible server, real httpx over a real socket) ------------------


def nhn_app(store, server, login: str, lang: str = "en"):
    from contiple_tui.config import NhnKeys

    app = make_app(store, login, lang=lang)
    app.clock = real_now
    app.config.sms.gateway = "nhn"
    app.config.sms.base_url = server.base_url
    app.config.sms.keys = {"cs": NhnKeys(server.app_key, server.secret_key)}
    return app


def send_nhn(store, app, login: str, to: str, reserve_in: timedelta | None = None) -> int:
    from contiple_tui.sms.factory import gateway_for

    user, cs = store.users.get_by_login(login), store.services.get_by_code("cs")
    at = real_now().astimezone(SEOUL)
    reserve = "" if reserve_in is None else (at + reserve_in).strftime("%Y-%m-%d %H:%M")
    draft = sms.Draft(
        send_type=SendType.SMS, sender_no="15880001", body="[고객센터] 안내", recipients=to, reserve=reserve
    )
    gateway = gateway_for(app.config.sms, cs)
    try:
        return sms.send(
            store, user, cs, sms.prepare(store, user, cs, draft, now=at), gateway, now=at
        ).message_id
    finally:
        gateway.close()


async def test_cancel_goes_to_nhn_cloud_too(demo_store):
    from contiple_tui.sim.nhn_server import NhnServer

    with NhnServer(sender_numbers=("15880001",)) as server:
        app = nhn_app(demo_store, server, "agent02")
        reserved = send_nhn(
            demo_store, app, "agent02", "01012345678,01099998888", reserve_in=timedelta(hours=2)
        )
        request_id = demo_store.sms.get_message(reserved).request_id
        async with app.run_test(size=(100, 30)) as pilot:
            await open_history(pilot, expected=1)
            assert not app.query_one("#smsh-sandbox").display  # NHN Cloud: no SANDBOX badge
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
            text = static_text(app.screen.query_one("#smsh-detail-body"))
            assert "NHN Cloud" in text and request_id in text and not app.screen.query("#smsh-detail-sandbox")
            await pilot.press("c")  # from the detail
            await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            assert "NHN Cloud" in static_text(app.screen.query_one("#smsh-confirm-text"))
            await pilot.click("#smsh-confirm-yes")
            await until(pilot, lambda: status_of(demo_store, reserved) is MessageStatus.CANCELLED)
        assert server.requests["PUT /reservations/cancel"] == 1
        assert {m.message_status for m in server.messages if m.request_id == request_id} == {"CANCEL"}


async def test_nhn_statuses_are_brought_up_to_date(demo_store):
    from contiple_tui.sim.nhn_server import NhnServer

    with NhnServer(sender_numbers=("15880001",)) as server:
        app = nhn_app(demo_store, server, "agent02", lang="ko")
        sent = send_nhn(demo_store, app, "agent02", "01012345678")
        assert status_of(demo_store, sent) is MessageStatus.REQUESTED  # accepted, not yet delivered
        async with app.run_test(size=(100, 30)) as pilot:
            await open_history(pilot)
            await until(pilot, lambda: status_of(demo_store, sent) is MessageStatus.SENT)  # asked on opening
            table = sends_table(app)
            await until(
                pilot, lambda: table.current is not None and table.current.status is MessageStatus.SENT
            )
        assert server.requests["GET /sender/sms/{requestId}"] + server.requests["GET /sender/sms"] >= 1


async def test_a_refused_cancel_is_explained_and_nothing_changes(demo_store):
    from contiple_tui.sim.nhn_server import NhnServer

    with NhnServer(sender_numbers=("15880001",)) as server:
        app = nhn_app(demo_store, server, "agent02", lang="ko")
        reserved = send_nhn(demo_store, app, "agent02", "01012345678", reserve_in=timedelta(hours=2))
        server.fail_next("http500", endpoint="PUT /reservations/cancel")
        async with app.run_test(size=(100, 30)) as pilot:
            await open_history(pilot, expected=1)
            await until(pilot, lambda: app.query_one("#smsh-cancel", Button).display)
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            await pilot.click("#smsh-confirm-yes")
            await until(pilot, lambda: "HTTP 500" in status_line(app))  # in the user's language, on screen
            assert "⚠" in status_line(app)
            await until(pilot, lambda: any("500" in n.message for n in app._notifications))  # and a toast
            assert status_of(demo_store, reserved) is MessageStatus.RESERVED
            assert app.query_one("#smsh-cancel", Button).display  # still cancellable: try again
        assert {m.message_status for m in server.messages} == {"RESERVED"}


# -- snapshots --------------------------------------------------------------------------------------


def _snapshot_data(store) -> None:
    """Fixed sends around FIXED_NOW (10:30 in Seoul): the screen depends on nothing else."""
    send(store, "agent02", "01012345678,01099998888,0212345678", ago=180)
    send(
        store,
        "agent05",
        "01055556666",
        body="[고객센터] 요청하신 서류를 보내 드립니다. 확인 부탁드립니다.",
        send_type=SendType.MMS,
        title="서류 안내",
        sender="0212345678",
        ago=95,
    )
    send(
        store,
        "admin",
        "01077778888",
        body="내일 오전 방문 예정입니다.",
        ago=20,
        reserve_in=timedelta(hours=2),
    )
    send(store, "agent02", "01033334444", body="Your order has shipped.", ago=5)


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_snapshot(snap_compare, demo_store, lang, size):
    _snapshot_data(demo_store)
    app = make_app(demo_store, "admin", lang=lang)

    async def run_before(pilot):
        await open_history(pilot, expected=4)
        await point_at(pilot, 3)  # the reservation: its cancel button shows
        await workers_done(pilot.app)
        await pilot.pause(0.3)  # the capture: the last redraw lands

    assert snap_compare(app, terminal_size=size, run_before=run_before)
