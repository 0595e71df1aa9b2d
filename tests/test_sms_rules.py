"""The sending rules of PRODUCT.md 2-2: CP949 bytes, content limits, recipients, reservation, images."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contiple_tui.domain import images
from contiple_tui.domain import sms_rules as rules
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import ValidationError
from contiple_tui.i18n import t

from .smsdata import jpeg_bytes, jpeg_of_size, png_bytes

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 25, 15, 0, 0, tzinfo=SEOUL)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp949")
        return True
    except UnicodeEncodeError:
        return False


# -- bytes ----------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_byte_count_equals_cp949_length_for_encodable_text(text):
    if _encodable(text):
        assert rules.byte_count(text) == len(text.encode("cp949"))
        assert rules.unencodable(text) == []
    else:
        bad = rules.unencodable(text)
        assert bad, "unencodable text must be detected"
        assert all(not _encodable(text[i]) for i in bad)
        assert all(_encodable(ch) for i, ch in enumerate(text) if i not in bad)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("가나다라마바사아자차카타파하 abcXYZ019.,!?\n")))
def test_hangul_two_bytes_ascii_one(text):
    expected = sum(2 if "\uac00" <= ch <= "\ud7a3" else 1 for ch in text)
    assert rules.byte_count(text) == expected


def test_emoji_is_found_and_blocks_sending():
    text = "안녕하세요 😀 고객님"
    assert rules.unencodable(text) == [6]
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.SMS, "", text, 0)
    assert err.value.key == "sms.err.unencodable" and "😀" in err.value.message()


def test_sms_limit_is_90_bytes():
    rules.validate_content(SendType.SMS, "", "가" * 45, 0)
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.SMS, "", "가" * 45 + "a", 0)  # 91 bytes
    assert err.value.key == "sms.err.sms_too_long" and "91" in err.value.message()


def test_mms_body_and_title_limits():
    rules.validate_content(SendType.MMS, "가" * 20, "a" * 2000, 0)
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.MMS, "제목", "a" * 2001, 0)
    assert err.value.key == "sms.err.mms_too_long"
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.MMS, "가" * 20 + "a", "본문", 0)  # 41-byte title
    assert err.value.key == "sms.err.title_too_long"
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.MMS, "", "본문", 0)
    assert err.value.key == "sms.err.title_empty"


def test_sms_cannot_carry_images_or_title():
    with pytest.raises(ValidationError, match="MMS"):
        rules.validate_content(SendType.SMS, "", "hi", 1)
    with pytest.raises(ValidationError) as err:
        rules.validate_content(SendType.SMS, "title", "hi", 0)
    assert err.value.key == "sms.err.sms_title"


def test_auto_type():
    assert rules.auto_type("a" * 90, 0) is SendType.SMS
    assert rules.auto_type("a" * 91, 0) is SendType.MMS
    assert rules.auto_type("short", 1) is SendType.MMS


def test_check_text_reports_over_and_bad():
    check = rules.check_text("가나😀", 90)
    assert (check.used, check.limit, check.bad, check.ok) == (4, 90, (2,), False)
    assert rules.check_text("a" * 91, 90).over


# -- recipients ---------------------------------------------------------------------------------


def test_recipients_dedup_and_counts():
    parsed = rules.parse_recipients("01012345678,01012345678,0212345678,,")
    assert parsed.numbers == ("01012345678", "0212345678") and parsed.duplicates == 1


def test_recipients_are_separated_by_commas_spaces_or_new_lines_with_hyphens_inside_numbers():
    """A pasted column or row of numbers, as people write them (issue 11): each number on its own."""
    with pytest.raises(ValidationError) as err:
        rules.parse_recipients("010-9999-8888 02123")  # was silently one 16-digit number
    assert err.value.key == "sms.err.recipient_length" and "02123" in err.value.message("en")
    parsed = rules.parse_recipients("010-9999-8888\t02-1234-5678, 031-123-4567\n")
    assert parsed.numbers == ("01099998888", "0212345678", "0311234567")


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("010-9999-8888 0212345678", ("01099998888", "0212345678")),  # was one 21-digit number
        ("010-9999-8888\n02-1234-5678\n", ("01099998888", "0212345678")),
        ("01099998888,\n 0212345678 ,", ("01099998888", "0212345678")),
        ("010-9999-8888 01099998888", ("01099998888",)),  # the same number twice
    ],
)
def test_recipients_normalized(text, numbers):
    assert rules.parse_recipients(text).numbers == numbers


@pytest.mark.parametrize(
    "text,key",
    [
        ("0101234567a", "sms.err.recipient_chars"),
        ("010.1234.5678", "sms.err.recipient_chars"),
        ("-01012345678", "sms.err.recipient_hyphen"),
        ("010--1234-5678", "sms.err.recipient_hyphen"),
        ("01012345678-", "sms.err.recipient_hyphen"),
        ("010-9999-8888 02123", "sms.err.recipient_length"),  # 02123 is 5 digits, said, not glued on
        ("012345678", "sms.err.recipient_length"),  # 9 digits
        ("01234567890123", "sms.err.recipient_length"),  # 14 digits
        ("", "sms.err.no_recipients"),
        (",,", "sms.err.no_recipients"),
    ],
)
def test_bad_recipients(text, key):
    with pytest.raises(ValidationError) as err:
        rules.parse_recipients(text)
    assert err.value.key == key
    assert err.value.message("ko") != err.value.message("en")


def test_recipient_length_bounds():
    assert rules.parse_recipients("0123456789,0123456789012").numbers == ("0123456789", "0123456789012")


def test_at_most_1000_recipients():
    ok = ",".join(f"010{n:08d}" for n in range(1000))
    assert len(rules.parse_recipients(ok).numbers) == 1000
    with pytest.raises(ValidationError) as err:
        rules.parse_recipients(ok + ",01099999999")
    assert err.value.key == "sms.err.too_many_recipients" and "1001" in err.value.message()
    # Duplicates do not count against the limit.
    assert len(rules.parse_recipients(ok + ",01000000000").numbers) == 1000


# -- reservation ----------------------------------------------------------------------------------


def _at(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%d %H:%M")


def test_reservation_window():
    assert rules.parse_reservation(_at(timedelta(minutes=30)), NOW) == NOW + timedelta(minutes=30)
    assert rules.parse_reservation(_at(timedelta(days=1)), NOW) == NOW + timedelta(days=1)
    assert rules.parse_reservation(_at(timedelta(hours=5)), NOW).tzinfo is SEOUL


@pytest.mark.parametrize(
    "delta,key",
    [
        (timedelta(minutes=29), "sms.err.reserve_too_soon"),
        (timedelta(days=1, minutes=1), "sms.err.reserve_too_late"),
        (timedelta(minutes=-5), "sms.err.reserve_past"),
    ],
)
def test_reservation_refused(delta, key):
    with pytest.raises(ValidationError) as err:
        rules.parse_reservation(_at(delta), NOW)
    assert err.value.key == key


def test_reservation_to_the_letter_with_seconds():
    now = NOW.replace(second=40)  # 15:00:40: 15:30 is only 29 min 20 s ahead
    with pytest.raises(ValidationError) as err:
        rules.parse_reservation("2026-11-25 15:30", now)
    assert "15:31" in err.value.message()
    assert rules.parse_reservation("2026-11-25 15:31", now)


@pytest.mark.parametrize("text", ["tomorrow", "2026-11-25", "2026-13-01 10:00", "2026-11-25 25:00"])
def test_reservation_format(text):
    with pytest.raises(ValidationError) as err:
        rules.parse_reservation(text, NOW)
    assert err.value.key == "sms.err.reserve_format"


def test_sender_must_be_registered():
    assert rules.check_sender("15880001", ("15880001",)) == "15880001"
    with pytest.raises(ValidationError) as err:
        rules.check_sender("0299999999", ("15880001",))
    assert err.value.key == "sms.err.sender_unregistered"


# -- images -------------------------------------------------------------------------------------------


def test_real_jpeg_passes():
    img = images.check_image_bytes("photo.JPG", jpeg_bytes(640, 480))
    assert (img.width, img.height, img.file_name) == (640, 480, "photo.JPG")


def test_png_renamed_jpg_is_refused():
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("fake.jpg", png_bytes())
    assert err.value.key == "sms.err.image_not_jpeg" and "PNG" in err.value.message()


def test_truncated_jpeg_is_refused():
    data = jpeg_bytes(400, 400, noise=True)
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("cut.jpg", data[: len(data) // 2])
    assert err.value.key == "sms.err.image_broken"


def test_not_an_image_at_all():
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("notes.jpg", b"hello, this is text")
    assert err.value.key == "sms.err.image_not_jpeg_unknown" and "?" not in err.value.message()


def test_301_kb_jpeg_is_refused():
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("big.jpg", jpeg_of_size(301_000, 301_500))
    assert err.value.key == "sms.err.image_too_big"
    images.check_image_bytes("ok.jpg", jpeg_of_size(280_000, 300_000))


def test_1001_by_1000_jpeg_is_refused():
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("wide.jpg", jpeg_bytes(1001, 1000))
    assert err.value.key == "sms.err.image_too_large"
    assert images.check_image_bytes("max.jpg", jpeg_bytes(1000, 1000)).width == 1000


def test_extension_must_be_jpg():
    with pytest.raises(ValidationError) as err:
        images.check_image_bytes("photo.png", jpeg_bytes())
    assert err.value.key == "sms.err.image_extension"


def test_fourth_image_and_total_size():
    one = images.check_image_bytes("a.jpg", jpeg_bytes())
    images.check_image_set([one] * 3)
    with pytest.raises(ValidationError) as err:
        images.check_image_set([one] * 4)
    assert err.value.key == "sms.err.too_many_images"
    big = images.check_image_bytes("b.jpg", jpeg_of_size(280_000, 300_000))
    with pytest.raises(ValidationError) as err:
        images.check_image_set([big, big, big])  # > 800 KB together
    assert err.value.key == "sms.err.images_total"


def test_image_file_checks(tmp_path):
    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg_bytes())
    assert images.check_image_file(path).size == path.stat().st_size
    with pytest.raises(ValidationError) as err:
        images.check_image_file(tmp_path / "missing.jpg")
    assert err.value.key == "sms.err.image_unreadable"


def test_messages_exist_in_both_languages():
    for key in ("sms.err.image_broken", "sms.err.reserve_too_soon", "sms.code.-2312"):
        assert t(key, "ko") != key and t(key, "en") != key
