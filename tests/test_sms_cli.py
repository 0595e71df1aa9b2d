"""`contiple-tui sms send | history | cancel` as a shell user or a cron job runs it (the real program)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import run_cli, store_args
from .smsdata import jpeg_bytes, png_bytes

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same commands, the same rules


def sms(store, *args, user="agent02", lang="en", env=None):
    """The command as an operator runs it on the store's host: its data directory (and its database)."""
    return run_cli(*store_args(store), "--user", user, "--lang", lang, "sms", *args, env=env)


def _ahead(**delta) -> str:
    return (datetime.now(ZoneInfo("Asia/Seoul")) + timedelta(**delta)).strftime("%Y-%m-%d %H:%M")


def test_send_sms_now(demo_store):
    result = sms(demo_store, "send", "--to", "01012345678,01012345678,0212345678", "--body", "안녕하세요")
    assert result.returncode == 0, result.stderr
    assert "1 duplicate" in result.stdout and "SANDBOX" in result.stdout
    assert "SMS #1 to 2 recipients: Sent." in result.stdout
    store = demo_store
    msg = store.sms.get_message(1)
    assert (msg.send_type, msg.sender_no, msg.body, msg.recipient_count) == (
        "SMS",
        "15880001",
        "안녕하세요",
        2,
    )


def test_mms_with_image_reserved_then_found_and_cancelled(demo_store, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes(320, 240))
    at = _ahead(hours=2)
    sent = sms(
        demo_store,
        "send",
        "--to",
        "01012345678",
        "--body",
        "사진을 보내 드립니다",
        "--image",
        str(photo),
        "--at",
        at,
        "--from",
        "0212345678",
    )
    assert sent.returncode == 0, sent.stderr
    assert f"MMS #1 reserved for {at} (Asia/Seoul), 1 recipients." in sent.stdout
    listing = sms(demo_store, "history", lang="ko")
    assert listing.returncode == 0 and "예약" in listing.stdout and "0212345678" in listing.stdout
    cancelled = sms(demo_store, "cancel", "1")
    assert cancelled.returncode == 0 and "cancelled for 1 recipients" in cancelled.stdout
    again = sms(demo_store, "cancel", "1")
    assert again.returncode == 2 and "Only a reservation" in again.stderr
    assert "Cancelled" in sms(demo_store, "history").stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--to", "01012345678", "--body", "웃음 😀"], "😀"),
        (["--to", "01012345678", "--type", "sms", "--body", "가" * 45 + "a"], "91 bytes"),
        (["--to", "01012345678", "--type", "mms", "--title", "t", "--body", "a" * 2001], "2001 bytes"),
        (["--to", "01012345678", "--type", "mms", "--title", "가" * 20 + "a", "--body", "b"], "41 bytes"),
        (["--to", "0101234567a", "--body", "hi"], "'a' is not allowed"),
        (["--to", "012345678", "--body", "hi"], "9 digits"),
        (["--to", "01234567890123", "--body", "hi"], "14 digits"),
        (["--to", ",".join(f"010{n:08d}" for n in range(1001)), "--body", "hi"], "1001 recipients"),
        (["--to", "01012345678", "--body", "hi", "--at", "__29m"], "at least 30 minutes"),
        (["--to", "01012345678", "--body", "hi", "--at", "__1d1m"], "at most 1 day"),
        (["--to", "01012345678", "--body", "hi", "--at", "2020-01-01 10:00"], "in the past"),
        (["--to", "01012345678", "--body", "hi", "--from", "0299999999"], "not a registered sender"),
    ],
)
def test_rule_violations_exit_2_and_send_nothing(demo_store, args, needle):
    args = [
        _ahead(minutes=29) if a == "__29m" else _ahead(days=1, minutes=1) if a == "__1d1m" else a
        for a in args
    ]
    result = sms(demo_store, "send", *args)
    assert result.returncode == 2, result.stdout
    assert needle in result.stderr
    store = demo_store
    assert store.sms.history_count(store.services.get_by_code("cs").id, _all()) == 0


def _all():
    from contiple_tui.domain.queries import HistoryFilter

    return HistoryFilter()


def test_bad_images_exit_2(demo_store, tmp_path):
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(png_bytes())
    result = sms(demo_store, "send", "--to", "01012345678", "--body", "hi", "--image", str(fake), lang="ko")
    assert result.returncode == 2 and "JPEG 이미지가 아닙니다" in result.stderr
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes())
    result = sms(demo_store, "send", "--to", "01012345678", "--body", "hi", *(["--image", str(good)] * 4))
    assert result.returncode == 2 and "at most 3" in result.stderr


def test_body_file_and_auto_type(demo_store, tmp_path):
    body = tmp_path / "body.txt"
    body.write_text("첫 줄 제목\n" + "가" * 50 + "\n", encoding="utf-8")
    result = sms(demo_store, "send", "--to", "01012345678", "--body-file", str(body))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("MMS #1 to 1 recipients: Sent.")
    store = demo_store
    assert store.sms.get_message(1).title == "첫 줄 제목"
    missing = sms(demo_store, "send", "--to", "01012345678", "--body-file", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr


def test_who_may_send(demo_store):
    tv = sms(demo_store, "send", "--to", "01012345678", "--body", "hi", user="tv")
    assert tv.returncode == 2 and "not allowed" in tv.stderr.lower()
    care = sms(demo_store, "send", "--to", "01012345678", "--body", "hi", "--service", "care", user="admin")
    assert care.returncode == 2
    no_phone = sms(demo_store, "send", "--to", "01012345678", "--body", "hi", user="agent11")
    assert no_phone.returncode == 0, no_phone.stderr  # SMS does not need the phone permission


def test_agents_history_shows_only_their_own(demo_store):
    assert sms(demo_store, "send", "--to", "01012345678", "--body", "by agent02").returncode == 0
    assert sms(demo_store, "send", "--to", "01012345678", "--body", "by admin", user="admin").returncode == 0
    own = sms(demo_store, "history")
    assert "by agent02" in own.stdout and "by admin" not in own.stdout
    everyone = sms(demo_store, "history", user="admin")
    assert "by agent02" in everyone.stdout and "by admin" in everyone.stdout
    refused = sms(demo_store, "cancel", "2")
    assert refused.returncode == 2
