"""Text from outside the code, made safe to show.

Everything that comes from data (the store, the CTI feed, a gateway's answer, a file name, a config value,
a command-line argument) passes through :func:`clean` before a screen, a toast, a CLI table or an error
message shows it, and the UI renders the result as plain text, never as markup. Leaf module: imports
nothing of ours, so the store, the core and the CLI use it alike.
"""

from __future__ import annotations

import re

# C0 controls (but tab and newline, handled apart), DEL and C1 controls; the bidirectional embeddings,
# overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the invisible marks LRM, RLM and ALM, which
# can reorder what a line shows; lone surrogates, which no terminal encoding can carry.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}{_SURROGATES}]")
_UNSAFE_INPUT = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_UNSAFE_INPUT_NO_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")

MAX_CHARS = 1000  # longer text is cut (with "…"): no name, phone or message needs more on one screen
REPLACEMENT = "\ufffd"


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return REPLACEMENT  # a lone surrogate stands for a character that was lost: say so
    return ""


def clean(value: object, max_chars: int | None = MAX_CHARS, *, newlines: bool = False) -> str:
    """``value`` as plain, printable text: controls and bidi marks removed, lone surrogates replaced by
    U+FFFD, tabs as spaces, at most ``max_chars`` characters. Newlines are kept only with ``newlines``
    (an SMS body in a detail view); otherwise each line break becomes a space."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and (max_chars is None or len(text) <= max_chars):
        return text  # the common case, without a regex pass
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not newlines:
        text = text.replace("\n", " ").replace("\r", " ")
    text = _UNSAFE.sub(_replace, text)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text


def unsafe_chars(value: str, *, newlines: bool = False) -> list[str]:
    """The characters of ``value`` that input at the door refuses (controls, bidi marks, lone
    surrogates; newlines too unless ``newlines``), each once, as ``U+XXXX`` for a message."""
    pattern = _UNSAFE_INPUT if newlines else _UNSAFE_INPUT_NO_NEWLINE
    seen: list[str] = []
    for char in pattern.findall(value):
        code = f"U+{ord(char):04X}"
        if code not in seen:
            seen.append(code)
    return seen
