"""How values read on a screen and in an export, so both say the same thing."""

from __future__ import annotations

import unicodedata

from contiple_tui.i18n import t


def display_width(text: str) -> int:
    """Terminal/Excel cells of ``text``: wide (Hangul, CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sms_result_text(code: str | None, message: str, lang: str | None = None) -> str:
    """A recipient's result in the user's language: a gateway error code explained (sms.code.*),
    otherwise what the gateway said."""
    if code and code not in ("0", "1000"):
        key = f"sms.code.{code}"
        text = t(key, lang)
        if text != key:
            return text
    return message
