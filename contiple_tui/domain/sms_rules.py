"""The sending rules of PRODUCT.md 2-2 and NHN-SMS-API.md: bytes, recipients, reservation window.

Pure functions, headless. Each violation raises :class:`ValidationError` with a message key, so the
composer, the CLI and the core refuse the same things with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from contiple_tui.errors import ValidationError
from contiple_tui.i18n import t

SMS_BODY_LIMIT = 90  # bytes
MMS_TITLE_LIMIT = 40
MMS_BODY_LIMIT = 2_000
MAX_RECIPIENTS = 1_000
RECIPIENT_MIN_DIGITS = 10
RECIPIENT_MAX_DIGITS = 13
SENDER_MAX_CHARS = 13
RESERVE_MIN_AHEAD = timedelta(minutes=30)
RESERVE_MAX_AHEAD = timedelta(days=1)
RESERVE_FORMAT = "%Y-%m-%d %H:%M"
ENCODING = "cp949"  # what Korean carriers count (EUC-KR superset; NHN accepts MS949)


class SendType(StrEnum):
    SMS = "SMS"
    MMS = "MMS"  # long text and/or images (NHN's /sender/mms: LMS without images, MMS with)


# -- bytes --------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _char_bytes(ch: str) -> int:
    """Bytes of one character in CP949, or 0 when CP949 cannot encode it."""
    try:
        return len(ch.encode(ENCODING))
    except UnicodeEncodeError:
        return 0


def byte_count(text: str) -> int:
    """Bytes the carrier counts. Unencodable characters count 0 (they block sending anyway)."""
    try:
        return len(text.encode(ENCODING))  # the fast path: one C call
    except UnicodeEncodeError:
        return sum(_char_bytes(ch) for ch in text)


def unencodable(text: str) -> list[int]:
    """Indexes of the characters CP949 cannot encode (emoji and the like)."""
    try:
        text.encode(ENCODING)
        return []
    except UnicodeEncodeError:
        return [i for i, ch in enumerate(text) if _char_bytes(ch) == 0]


@dataclass(frozen=True, slots=True)
class TextCheck:
    """What the live counter shows for one field."""

    used: int
    limit: int
    bad: tuple[int, ...]  # indexes of unencodable characters

    @property
    def over(self) -> bool:
        return self.used > self.limit

    @property
    def ok(self) -> bool:
        return not self.over and not self.bad


def check_text(text: str, limit: int) -> TextCheck:
    return TextCheck(byte_count(text), limit, tuple(unencodable(text)))


def body_limit(send_type: SendType) -> int:
    return SMS_BODY_LIMIT if send_type is SendType.SMS else MMS_BODY_LIMIT


def auto_type(body: str, image_count: int) -> SendType:
    """`--type auto`: SMS when the body fits 90 bytes and there is no image, otherwise MMS."""
    return SendType.SMS if image_count == 0 and byte_count(body) <= SMS_BODY_LIMIT else SendType.MMS


def cut_to_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` that fits ``limit`` CP949 bytes (e.g. a title made from a body)."""
    out = ""
    for ch in text:
        if byte_count(out + ch) > limit:
            break
        out += ch
    return out


def _bad_chars(text: str, bad: list[int]) -> str:
    return " ".join(dict.fromkeys(text[i] for i in bad))


def _check_text(text: str, empty_key: str, field_key: str) -> None:
    """Not blank (else ``empty_key``) and every character sendable (else says which, in the field)."""
    if not text.strip():
        raise ValidationError(empty_key)
    bad = unencodable(text)
    if bad:
        raise ValidationError("sms.err.unencodable", field_name=t(field_key), chars=_bad_chars(text, bad))


def validate_content(send_type: SendType, title: str, body: str, image_count: int) -> None:
    """Every content rule for one send; raises on the first broken one."""
    _check_text(body, "sms.err.body_empty", "sms.field.body")
    used = byte_count(body)
    if send_type is SendType.SMS:
        if image_count:
            raise ValidationError("sms.err.sms_image")
        if title.strip():
            raise ValidationError("sms.err.sms_title")
        if used > SMS_BODY_LIMIT:
            raise ValidationError("sms.err.sms_too_long", used=used, limit=SMS_BODY_LIMIT)
        return
    _check_text(title, "sms.err.title_empty", "sms.field.title")
    title_used = byte_count(title)
    if title_used > MMS_TITLE_LIMIT:
        raise ValidationError("sms.err.title_too_long", used=title_used, limit=MMS_TITLE_LIMIT)
    if used > MMS_BODY_LIMIT:
        raise ValidationError("sms.err.mms_too_long", used=used, limit=MMS_BODY_LIMIT)


# -- recipients ----------------------------------------------------------------------------------

# Numbers are separated by commas, spaces or new lines (a pasted column or row); a hyphen may stand
# between digits inside a number (010-1234-5678). Nothing else may be typed.
RECIPIENT_SEPARATORS = re.compile(r"[,\s]+")
RECIPIENT_NUMBER = re.compile(r"[0-9]+(?:-[0-9]+)*")


@dataclass(frozen=True, slots=True)
class Recipients:
    numbers: tuple[str, ...]  # digits only, in the order typed, each once
    duplicates: int  # how many repeated numbers were removed


def split_recipients(text: str) -> list[str]:
    """The numbers as typed, separated (shown beside a refusal: how the input was read)."""
    return [part for part in RECIPIENT_SEPARATORS.split(text) if part]


def parse_recipients(text: str) -> Recipients:
    """Numbers separated by commas, spaces or new lines, hyphens allowed between digits; each number
    10–13 digits; duplicates removed; at most 1,000."""
    parts = split_recipients(text)
    for part in parts:
        bad = next((ch for ch in part if not (ch.isascii() and (ch.isdigit() or ch == "-"))), None)
        if bad is not None:
            raise ValidationError("sms.err.recipient_chars", char=bad)
        if not RECIPIENT_NUMBER.fullmatch(part):  # a hyphen at an end, or two in a row
            raise ValidationError("sms.err.recipient_hyphen", number=part)
    if not parts:
        raise ValidationError("sms.err.no_recipients")
    numbers = [part.replace("-", "") for part in parts]
    for typed, number in zip(parts, numbers):
        if not RECIPIENT_MIN_DIGITS <= len(number) <= RECIPIENT_MAX_DIGITS:
            raise ValidationError(
                "sms.err.recipient_length",
                number=typed,
                digits=len(number),
                low=RECIPIENT_MIN_DIGITS,
                high=RECIPIENT_MAX_DIGITS,
            )
    unique = tuple(dict.fromkeys(numbers))
    if len(unique) > MAX_RECIPIENTS:
        raise ValidationError("sms.err.too_many_recipients", count=len(unique), limit=MAX_RECIPIENTS)
    return Recipients(unique, len(numbers) - len(unique))


# -- reservation -----------------------------------------------------------------------------------


def parse_reservation(text: str, now: datetime) -> datetime:
    """A send time "YYYY-MM-DD HH:MM" in ``now``'s time zone (the service's), 30 min to 1 day ahead."""
    try:
        naive = datetime.strptime(text.strip(), RESERVE_FORMAT)
    except ValueError:
        raise ValidationError("sms.err.reserve_format", value=text) from None
    return check_reservation(naive.replace(tzinfo=now.tzinfo), now)


def check_reservation(at: datetime, now: datetime) -> datetime:
    earliest, latest = now + RESERVE_MIN_AHEAD, now + RESERVE_MAX_AHEAD
    if at < now:
        raise ValidationError("sms.err.reserve_past", at=at.strftime(RESERVE_FORMAT))
    # To the letter: "15:30" typed at 15:00:40 is 29 min 20 s ahead, so the earliest is 15:31.
    if at < earliest:
        raise ValidationError(
            "sms.err.reserve_too_soon", earliest=ceil_minute(earliest).strftime(RESERVE_FORMAT)
        )
    if at > latest:
        raise ValidationError("sms.err.reserve_too_late", latest=latest.strftime(RESERVE_FORMAT))
    return at


def ceil_minute(at: datetime) -> datetime:
    """The first whole minute at or after ``at`` (what a user can type as the earliest time)."""
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


# -- sender number ---------------------------------------------------------------------------------


def check_sender(number: str, registered: tuple[str, ...] | list[str]) -> str:
    if not number:
        raise ValidationError("sms.err.no_sender")
    if number not in registered:
        raise ValidationError("sms.err.sender_unregistered", number=number)
    return number
