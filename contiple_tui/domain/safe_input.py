"""Input refused at the door: names, logins, CTI ids and SMS texts with control or bidi characters.

The core functions every caller goes through (the CLI, the screens, scripts) check their text fields
here, so a name that would rewrite a terminal, reorder a line or hide a character never gets into the
store. Text already in the store (or from the CTI feed, or a gateway) is made safe when shown instead
(:func:`contiple_tui.safe_text.clean`).
"""

from __future__ import annotations

from contiple_tui.errors import ValidationError
from contiple_tui.i18n import t
from contiple_tui.safe_text import unsafe_chars


class UnsafeText(ValidationError):
    """A text field holds control, bidirectional or lone-surrogate characters; nothing was changed."""

    def __init__(self, field: str, chars: list[str]) -> None:
        super().__init__("err.unsafe_text", field=field, chars=", ".join(chars))
        self.field = field
        self.chars = chars

    def message(self, lang: str | None = None) -> str:
        return t("err.unsafe_text", lang, field=t(f"field.{self.field}", lang), chars=", ".join(self.chars))


def check(field: str, value: str | None, *, newlines: bool = False) -> None:
    """Raise :class:`UnsafeText` naming ``field`` (a ``field.*`` message key) and the characters
    (as ``U+XXXX``) when ``value`` holds any; newlines pass only with ``newlines``."""
    if value:
        bad = unsafe_chars(value, newlines=newlines)
        if bad:
            raise UnsafeText(field, bad)
