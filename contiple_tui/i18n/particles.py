"""Korean particles that follow the word before them: 은/는, 이/가, 을/를, 과/와, 으로/로.

Which one depends on how the word ends when read aloud: with a final consonant (받침) the first, without
the second; 으로/로 takes 로 after a final ㄹ too. Digits and Latin letters are read as Koreans read
them (``#81`` is 팔십일: 을; ``fake.jpg`` ends in 지: 는; ``10`` is 십: 은). Messages use them as a format
spec on the placeholder, so the catalogs never fall back to "을(를)": ``"{name:을} 읽을 수 없습니다"``; with
a quote first the word is quoted: ``{login:'을}`` gives ``'agent01'을``.

English plurals are a spec too, the singular and the plural after the number: ``{count:callback was|callbacks
were}`` gives ``1 callback was`` and ``3 callbacks were`` (never "callback(s)").
"""

from __future__ import annotations

import string

# The particle named in a format spec -> (after a final consonant, after a vowel).
PAIRS: dict[str, tuple[str, str]] = {}  # (either form names the pair)
for _with, _without in (("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")):
    PAIRS[_with] = PAIRS[_without] = (_with, _without)

_RIEUL = 8  # index of ㄹ among the final consonants of a Hangul syllable
# How a digit ends when read (Sino-Korean): (has a final consonant, that final is ㄹ).
_DIGITS = {
    "0": (True, False),
    "1": (True, True),
    "2": (False, False),
    "3": (True, False),
    "4": (False, False),
    "5": (False, False),
    "6": (True, False),
    "7": (True, True),
    "8": (True, True),
    "9": (False, False),
}
# A number ending in zeros ends in its unit: 십, 백, 천, 만 — all with a final consonant other than ㄹ.
# Latin letters by their Korean names (엘, 엠, 엔, 알 end in a consonant; the rest in a vowel).
_LETTERS = {"l": (True, True), "r": (True, True), "m": (True, False), "n": (True, False)}


def ending(word: str) -> tuple[bool, bool] | None:
    """(ends in a final consonant, that consonant is ㄹ) for the last readable character; None if none."""
    text = word.rstrip(" )]}\"'.,!?")
    for index in range(len(text) - 1, -1, -1):
        ch = text[index]
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3:
            final = (code - 0xAC00) % 28
            return final != 0, final == _RIEUL
        if ch.isdigit() and ch in _DIGITS:
            digits = len(text[: index + 1]) - len(text[: index + 1].rstrip("0123456789"))
            number = text[index + 1 - digits : index + 1]
            if number.strip("0") and number.endswith("0"):
                return True, False  # 10 십, 100 백, 1000 천, 10000 만
            return _DIGITS[ch]
        if ch.isascii() and ch.isalpha():
            return _LETTERS.get(ch.lower(), (False, False))
    return None


def particle(word: str, name: str) -> str:
    """The particle of ``name``'s pair (either form names it) that follows ``word``."""
    with_final, without_final = PAIRS[name]
    end = ending(word)
    if end is None:
        return f"{with_final}({without_final})" if with_final != "으로" else "(으)로"
    has_final, rieul = end
    if with_final == "으로":
        return "로" if not has_final or rieul else "으로"
    return with_final if has_final else without_final


def attach(word: str, name: str) -> str:
    return f"{word}{particle(word, name)}"


class ParticleFormatter(string.Formatter):
    """str.format, where a format spec that names a particle (``{name:을}``) appends the right one."""

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec in PAIRS:
            return attach(format(value), format_spec)
        if format_spec[:1] == "'" and format_spec[1:] in PAIRS:  # {login:'을} -> 'agent01'을
            word = format(value)
            return f"'{word}'{particle(word, format_spec[1:])}"
        if "|" in format_spec:  # {count:callback|callbacks} -> 1 callback, 3 callbacks
            one, many = format_spec.split("|", 1)
            return f"{value} {one if value == 1 else many}"
        return super().format_field(value, format_spec)


FORMATTER = ParticleFormatter()
