"""Pilot tests of 2-2 SMS 발송: the live counter, each block, template locking, preview and send."""

from __future__ import annotations

import pytest
from textual.css.query import NoMatches
from textual.widgets import Button, Checkbox, Input, Select, Static

from contiple_tui.core import sms
from contiple_tui.domain.queries import HistoryFilter
from contiple_tui.domain.sms_models import MessageStatus
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.screens.sms_preview import SmsPreviewScreen
from contiple_tui.widgets.image_picker import ImagePicker
from contiple_tui.widgets.sms_text import SmsTextField

from .apphelpers import make_app, static_text, until
from .smsdata import jpeg_bytes, png_bytes


async def open_composer(pilot):
    pilot.app.show_menu("sms_compose")
    await until(pilot, lambda: pilot.app.query("#sms-body"))
    await pilot.pause()
    return pilot.app.query_one("#view-sms_compose")


async def pick_template(pilot, template_id: int) -> SmsTextField:
    """Pick a template in the open composer; its body field, filled."""
    app = pilot.app
    app.query_one("#sms-template", Select).value = str(template_id)
    await pilot.pause()
    return app.query_one("#sms-body", SmsTextField)


def previewing(app) -> bool:
    """The preview is up and laid out (its buttons can be clicked)."""
    if not isinstance(app.screen, SmsPreviewScreen):
        return False
    buttons = app.screen.query("#preview-send, #preview-cancel")
    return len(buttons) == 2 and all(b.region.width > 0 for b in buttons)


def text_of(app, selector: str) -> str:
    return static_text(app.query_one(selector, Static))


def sent(store) -> list:
    cs = store.services.get_by_code("cs")
    return store.sms.history(cs.id, HistoryFilter())


async def test_counter_updates_on_every_keystroke(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_composer(pilot)
        body = app.query_one("#sms-body", SmsTextField)
        body.area.focus()
        seen = []
        for key in ["a", "b", "가", "나", "space", "1"]:
            await pilot.press(key)
            seen.append(text_of(app, "#sms-body .sms-counter").strip())
        assert seen == [
            "1 / 90 bytes",
            "2 / 90 bytes",
            "4 / 90 bytes",
            "6 / 90 bytes",
            "7 / 90 bytes",
            "8 / 90 bytes",
        ]


async def test_emoji_is_flagged_and_blocks_sending(demo_store):
    app = make_app(demo_store, "agent02", lang="ko")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        body = app.query_one("#sms-body", SmsTextField)
        body.text = "안녕하세요 😀"
        app.query_one("#sms-recipients", Input).value = "01012345678"
        await pilot.pause()
        assert body.has_class("-bad") and "😀" in text_of(app, "#sms-body .sms-counter")
        # The character is shown reversed in the text area itself.
        line = body.area.get_line(0)
        assert any("reverse" in str(span.style) for span in line.spans)
        view.action_preview()
        await pilot.pause()
        assert "😀" in text_of(app, "#sms-error") and "보낼 수 없는" in text_of(app, "#sms-error")
        assert not isinstance(app.screen, SmsPreviewScreen)
        assert sent(demo_store) == []


async def test_over_90_bytes_offers_mms(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        body = app.query_one("#sms-body", SmsTextField)
        body.text = "가" * 45
        await pilot.pause()
        assert not view.has_class("-offer-mms")
        body.text = "가" * 45 + "a"
        await pilot.pause()
        assert view.has_class("-offer-mms") and "91 / 90 bytes" in text_of(app, "#sms-body .sms-counter")
        await pilot.click("#sms-switch-mms")
        await pilot.pause()
        assert app.query_one("#sms-type", Select).value == "MMS"
        assert "91 / 2,000 bytes" in text_of(app, "#sms-body .sms-counter")
        assert app.query_one("#sms-title", SmsTextField).text == "가" * 20  # the first line, cut to 40 bytes
        assert not view.has_class("-offer-mms") and app.query_one("#row-title").display


async def test_recipients_typed_or_pasted_with_live_check_and_the_numbers_shown(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_composer(pilot)
        field = app.query_one("#sms-recipients", Input)
        field.focus()
        await pilot.press(*"010-1234a5678")
        assert field.value == "010-12345678"  # the letter could not be typed; the hyphen could
        await pilot.press(*",01012345678 0212")
        await pilot.pause()
        assert "'0212' has 4 digits" in text_of(app, "#sms-recipients-status")
        await pilot.press(*"345678")
        await pilot.pause()
        assert text_of(app, "#sms-recipients-status").strip() == (
            "2 recipients: 010-1234-5678, 02-1234-5678 · 1 duplicate numbers removed."
        )
        field.value = "010-9999-8888 02123"  # pasted: a space separates, and the short number is said
        await pilot.pause()
        assert "'02123' has 5 digits" in text_of(app, "#sms-recipients-status")
        assert "read as 2 numbers: 010-9999-8888, 02123" in text_of(app, "#sms-recipients-status")


async def test_reservation_validated_as_typed(demo_store):
    app = make_app(demo_store, "agent02", lang="en")  # the app's clock: 2026-11-25 10:30 in Seoul
    async with app.run_test(size=(100, 40)) as pilot:
        await open_composer(pilot)
        app.query_one("#sms-reserve-on", Checkbox).value = True
        await pilot.pause()
        status = lambda: text_of(app, "#sms-reserve-status").strip()  # noqa: E731
        assert status() == "Between 2026-11-25 11:00 and 2026-11-26 10:30 (Asia/Seoul)."
        field = app.query_one("#sms-reserve", Input)
        for value, expected in [
            ("2026-11-25 10:59", "at least 30 minutes"),
            ("2026-11-26 10:31", "at most 1 day"),
            ("2026-11-25 09:00", "in the past"),
            ("2026-11-25 11:00", "✓ Reserved for 2026-11-25 11:00 (Asia/Seoul)."),
        ]:
            field.value = value
            await pilot.pause()
            assert expected in status(), (value, status())


async def test_images_checked_when_added(demo_store, tmp_path):
    good, fake = tmp_path / "good.jpg", tmp_path / "fake.jpg"
    good.write_bytes(jpeg_bytes(640, 480))
    fake.write_bytes(png_bytes())
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_composer(pilot)
        app.query_one("#sms-type", Select).value = "MMS"
        await pilot.pause()
        picker = app.query_one(ImagePicker)
        assert picker.add_path(str(fake)) is False
        assert "not a JPEG" in static_text(picker.query_one("#image-error", Static))
        for _ in range(3):
            assert picker.add_path(str(good))
        assert picker.add_path(str(good)) is False
        assert "at most 3" in static_text(picker.query_one("#image-error", Static))
        assert len(picker.images) == 3
        # Typing a path and pressing Enter adds it, with completion offered from the folder.
        picker.images.clear()
        path_input = picker.query_one("#image-path", Input)
        path_input.focus()
        path_input.value = str(tmp_path / "go")
        await until(pilot, lambda: path_input._suggestion == str(good))
        await pilot.press("right", "enter")
        await until(pilot, lambda: len(picker.images) == 1)


async def test_send_with_preview_and_confirmation(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        app.query_one("#sms-body", SmsTextField).text = "Your parcel left today."
        app.query_one("#sms-recipients", Input).value = "01012345678,01012345678,0212345678"
        await pilot.pause()
        view.action_preview()
        await until(pilot, lambda: previewing(app))
        preview = app.screen
        facts = static_text(preview.query_one("#preview-facts", Static))
        assert "To 2 recipients" in facts and "1 duplicate" in facts and "Sent now" in facts
        assert "SANDBOX" in static_text(preview.query_one("#preview-sandbox", Static))
        await pilot.click("#preview-cancel")
        await until(pilot, lambda: not isinstance(app.screen, SmsPreviewScreen))
        assert sent(demo_store) == []  # cancelled in the preview: nothing sent
        view.action_preview()
        await until(pilot, lambda: previewing(app))
        await pilot.click("#preview-send")
        await until(pilot, lambda: len(sent(demo_store)) == 1)
        await until(pilot, lambda: app.query_one("#sms-recipients", Input).value == "")
        msg = sent(demo_store)[0]
        assert (msg.body, msg.recipient_count, msg.status, msg.gateway) == (
            "Your parcel left today.",
            2,
            MessageStatus.SENT,
            "sandbox",
        )
        assert "SMS #1 to 2 recipients" in text_of(app, "#sms-error")


async def test_mms_reserved_with_photo_from_template(demo_store):
    store = demo_store
    cs, admin = store.services.get_by_code("cs"), store.users.get_by_login("admin")
    from contiple_tui.domain.images import check_image_bytes

    top = sms.add_category(store, admin, cs, "안내")
    sub = sms.add_category(store, admin, cs, "배송", parent_id=top)
    photo = check_image_bytes("map.jpg", jpeg_bytes(300, 300))
    tid = sms.save_template(
        store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=sub,
            name="지도 안내",
            send_type=SendType.MMS,
            title="오시는 길",
            body="매장 위치입니다.",
            editable=False,
            sender_no="0212345678",
            images=(photo,),
        ),
    )
    app = make_app(store, "agent02", lang="ko")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        body = await pick_template(pilot, tid)
        assert (
            body.text == "매장 위치입니다." and body.read_only and app.query_one("#sms-type", Select).disabled
        )
        assert app.query_one("#sms-sender", Select).value == "0212345678"
        assert [i.file_name for i in app.query_one(ImagePicker).images] == ["map.jpg"]
        app.query_one("#sms-recipients", Input).value = "01012345678"
        app.query_one("#sms-reserve-on", Checkbox).value = True
        await pilot.pause()
        app.query_one("#sms-reserve", Input).value = "2026-11-25 15:00"
        await pilot.pause()
        view.action_preview()
        await until(pilot, lambda: previewing(app))
        assert "예약" in static_text(app.screen.query_one("#preview-facts", Static))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(sent(store)) == 1)
        msg = sent(store)[0]
        assert (msg.status, msg.send_type, msg.template_name, msg.title) == (
            MessageStatus.RESERVED,
            SendType.MMS,
            "지도 안내",
            "오시는 길",
        )
        assert [i.data for i in store.sms.images(msg.id)] == [photo.data]


async def test_agent_without_sms_service_sees_no_composer(demo_store):
    app = make_app(demo_store, "tv", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.show_menu("sms_compose")  # refused with a notice: the menu is not the TV's
        await pilot.pause()
        with pytest.raises(NoMatches):
            app.query_one("#sms-body")


async def test_send_button_disabled_while_sending_and_error_keeps_the_form(demo_store, monkeypatch):
    """A gateway refusal: the message is shown, everything typed stays for a retry."""
    from contiple_tui.sms.gateway import GatewayError, SandboxGateway

    class RefusingSandbox(SandboxGateway):  # the outside world's edge: a gateway that says no
        def send(self, request):
            raise GatewayError("sms.err.gateway_refused", code=-2312, reason="sender not registered")

    monkeypatch.setattr(
        "contiple_tui.screens.sms_compose.gateway_for", lambda cfg, service: RefusingSandbox()
    )
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        app.query_one("#sms-body", SmsTextField).text = "hello"
        app.query_one("#sms-recipients", Input).value = "01012345678"
        view.action_preview()
        await until(pilot, lambda: previewing(app))
        await pilot.click("#preview-send")
        await until(pilot, lambda: "refused" in text_of(app, "#sms-error"))
        assert app.query_one("#sms-recipients", Input).value == "01012345678"
        assert app.query_one("#sms-body", SmsTextField).text == "hello"
        assert not app.query_one("#sms-send", Button).disabled
        assert sent(demo_store)[0].status is MessageStatus.FAILED


async def test_console_turns_due_sandbox_reservations_into_sent(demo_store):
    """Not only the history: every console brings open sends up to date (every SMS_REFRESH_S)."""
    from datetime import timedelta

    from contiple_tui.sms.gateway import SandboxGateway

    store = demo_store
    cs, agent = store.services.get_by_code("cs"), store.users.get_by_login("agent02")
    then = sms.service_now(cs) - timedelta(hours=2)  # reserved two hours ago for 45 minutes later: due
    at = (then + timedelta(minutes=45)).strftime("%Y-%m-%d %H:%M")
    outcome = sms.send(
        store,
        agent,
        cs,
        sms.prepare(
            store, agent, cs, sms.Draft(SendType.SMS, "15880001", "due", "01012345678", reserve=at), then
        ),
        SandboxGateway(),
        then,
    )
    assert outcome.status is MessageStatus.RESERVED
    app = make_app(store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app._refresh_sms()
        await until(pilot, lambda: store.sms.get_message(outcome.message_id).status is MessageStatus.SENT)


async def test_locked_template_with_old_tabs_and_carriage_returns_is_sent(demo_store):
    """A locked template stored before the door refused tabs and CR/CRLF (written to SQLite directly):
    the composer shows it made safe, and sending it is not refused as a changed locked text."""
    store = demo_store
    cs, admin = store.services.get_by_code("cs"), store.users.get_by_login("admin")
    top = sms.add_category(store, admin, cs, "안내")
    sub = sms.add_category(store, admin, cs, "배송", parent_id=top)
    tid = sms.save_template(
        store, admin, cs, sms.TemplateDraft(sub, "출발", SendType.SMS, "임시", editable=False)
    )
    store.db.run_write(
        lambda conn: conn.execute(
            "UPDATE sms_templates SET body = ? WHERE id = ?", ("출발\t했습니다\r\n도착\r예정", tid)
        )
    )
    app = make_app(store, "agent02", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_composer(pilot)
        body = await pick_template(pilot, tid)
        assert body.text == "출발 했습니다\n도착예정" and body.read_only
        app.query_one("#sms-recipients", Input).value = "01012345678"
        await pilot.pause()
        view.action_preview()
        await until(pilot, lambda: previewing(app))
        await pilot.click("#preview-send")
        await until(pilot, lambda: len(sent(store)) == 1)
        msg = sent(store)[0]
        assert (msg.body, msg.template_name, msg.status) == (
            "출발 했습니다\n도착예정",
            "출발",
            MessageStatus.SENT,
        )
