"""Korean particles chosen by how the word before them is read (issue 11): one helper, every message."""

from __future__ import annotations

import re

import pytest

from contiple_tui.i18n import _CATALOGS, t
from contiple_tui.i18n.particles import attach, particle


@pytest.mark.parametrize(
    "word, name, expected",
    [
        ("책", "을", "책을"),
        ("사과", "을", "사과를"),
        ("사과", "를", "사과를"),
        ("서버", "은", "서버는"),
        ("고객센터", "이", "고객센터가"),
        ("상담원", "이", "상담원이"),
        ("서울", "로", "서울로"),
        ("부산", "로", "부산으로"),
        ("학교", "으로", "학교로"),
        ("길", "으로", "길로"),
        ("친구", "과", "친구와"),
        ("동생", "와", "동생과"),
        ("#81", "을", "#81을"),  # 팔십일: ㄹ
        ("#82", "을", "#82를"),  # 팔십이
        ("10", "이", "10이"),
        ("100", "은", "100은"),
        ("1000", "을", "1000을"),
        ("20000", "이", "20000이"),  # 십 백 천 만
        ("0", "은", "0은"),  # 영
        ("3", "로", "3으로"),
        ("7", "로", "7로"),
        ("HTTP 500", "로", "HTTP 500으로"),
        ("fake.jpg", "은", "fake.jpg는"),
        ("photo.JPG", "을", "photo.JPG를"),
        ("SMS", "을", "SMS를"),
        ("URL", "은", "URL은"),
        ("HTML", "로", "HTML로"),
        ("CRM", "이", "CRM이"),
        ("010-1234-5678", "은", "010-1234-5678은"),  # 팔
        ("010-1234-5679", "은", "010-1234-5679는"),  # 구
        ("'agent01'", "을", "'agent01'을"),
        ("contiple.sqlite3", "이", "contiple.sqlite3이"),
        ("(고객센터)", "은", "(고객센터)는"),
    ],
)
def test_particles_follow_the_sound_of_the_word(word, name, expected):
    assert attach(word, name) == expected


def test_a_word_with_nothing_readable_gets_both_forms():
    assert particle("", "을") == "을(를)" and particle("…", "로") == "(으)로"


def test_messages_choose_them_and_no_catalog_falls_back_to_both_forms():
    assert t("err.cb_completed", "ko", id=81) == "콜백 81은 이미 완료되었습니다."
    assert t("err.cb_completed", "ko", id=82) == "콜백 82는 이미 완료되었습니다."
    assert t("sms.err.image_not_jpeg", "ko", name="fake.jpg", found="PNG").startswith("fake.jpg는 ")
    assert t("cli.users.added", "ko", login="agent01") == "사용자 'agent01'을 추가했습니다."
    assert t("cli.users.added", "ko", login="kim") == "사용자 'kim'을 추가했습니다."
    assert t("cli.users.added", "ko", login="lee") == "사용자 'lee'를 추가했습니다."
    assert t("sms.cli.cancelled", "ko", id=81, count=3) == "예약 #81을 취소했습니다. 수신자 3명."
    both = re.compile(r"을\(를\)|이\(가\)|은\(는\)|\(으\)로|과\(와\)")
    assert [key for key, text in _CATALOGS["ko"].items() if both.search(text)] == []
    # A particle written after a placeholder is right for some values only: it must be a spec.
    fixed = re.compile(r"\}'?(은|는|이|가|을|를|과|와|으로|로)(?![가-힣])")
    assert [key for key, text in _CATALOGS["ko"].items() if fixed.search(text)] == []
    # A quoted value has its quote inside the spec ({char:'은}), else the closing quote is lost.
    quote_outside = re.compile(r"'\{\w+:(은|는|이|가|을|를|과|와|으로|로)\}")
    assert [key for key, text in _CATALOGS["ko"].items() if quote_outside.search(text)] == []
    assert t("sms.err.recipient_length", "ko", number="02123", digits=5, low=8, high=11).startswith(
        "'02123'은 5자리"
    )
    assert t("sms.err.recipient_length", "ko", number="0212", digits=4, low=8, high=11).startswith("'0212'는")


def test_other_format_specs_still_work():
    assert t("err.cb_completed", "en", id=7) == t("err.cb_completed", "en", id="7")


def test_english_plurals_follow_the_number():
    assert t("cb.completed", "en", count=1) == "1 callback completed."
    assert t("cb.completed", "en", count=3) == "3 callbacks completed."
    assert t("cb.assigned_to_you", "en", count=1) == "1 callback was assigned to you."
    assert t("cb.assigned_to_you", "en", count=0) == "0 callbacks were assigned to you."
    assert t("assign.done", "en", count=5, agents=1) == "5 callbacks assigned to 1 agent."
    assert t("assign.done", "ko", count=5, agents=1) == "콜백 5건을 상담원 1명에게 할당했습니다."
    assert "(s)" not in "".join(t(k, "en") for k in ("cb.completed", "assign.done", "unassign.done"))
