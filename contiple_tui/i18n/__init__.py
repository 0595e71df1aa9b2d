"""Messages in Korean and English.

Every user-visible string goes through :func:`t`. The catalogs are plain dicts so the headless core can
produce messages without importing any UI code. One process serves one person, so the language is a
process-wide setting.
"""

from __future__ import annotations

import os

from contiple_tui.i18n import en, ko

LANGUAGES = ("ko", "en")
_CATALOGS = {"ko": ko.MESSAGES, "en": en.MESSAGES}
_current = "en"


def detect_language(environ: dict[str, str] | None = None) -> str:
    """Korean when the locale says ko*, English otherwise (LC_ALL wins over LANG, as in POSIX)."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def set_language(lang: str) -> None:
    global _current
    if lang not in _CATALOGS:
        raise ValueError(lang)
    _current = lang


def get_language() -> str:
    return _current


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """The message ``key`` in the current (or given) language, formatted with ``params``.

    A missing key shows as the key itself rather than crashing a screen; a test keeps the catalogs
    complete.
    """
    text = _CATALOGS[lang or _current].get(key)
    if text is None:
        return key
    return text.format(**params) if params else text


def both(key: str) -> tuple[str, str]:
    """The Korean and English text of ``key`` (for search in either language)."""
    return ko.MESSAGES.get(key, key), en.MESSAGES.get(key, key)
