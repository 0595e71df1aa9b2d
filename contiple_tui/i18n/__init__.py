"""Messages in Korean and English.

Every user-visible string goes through :func:`t`. One layout for every catalog: a module per area of
the product with its ``EN`` and ``KO`` dicts side by side (console.py, sms.py, sms_templates.py, ...),
merged here into ``CATALOGS``; a key belongs to one area (tests/test_i18n.py checks that, and that both
languages have the same keys and placeholders). Plain dicts, so the headless core can produce messages
without importing any UI code. One process serves one person, so the language is a process-wide setting.
"""

from __future__ import annotations

import os

from contiple_tui.i18n import (
    console,
    faults,
    feed_rules,
    safety,
    sms,
    sms_history,
    sms_outcome,
    sms_templates,
)
from contiple_tui.i18n.particles import FORMATTER, PAIRS

LANGUAGES = ("ko", "en")
AREAS = (console, sms, sms_templates, sms_history, sms_outcome, safety, faults, feed_rules)
CATALOGS: dict[str, dict[str, str]] = {
    "en": {key: text for area in AREAS for key, text in area.EN.items()},
    "ko": {key: text for area in AREAS for key, text in area.KO.items()},
}
_CATALOGS = CATALOGS
_current = "en"


def detect_language(environ: dict[str, str] | None = None) -> str:
    """English when the locale says en*, Korean otherwise: the product's language, also when the locale
    names no language (C, POSIX, unset: PuTTY over SSH sends none) or one we do not speak. LC_ALL wins
    over LC_MESSAGES over LANG, as in POSIX."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "en" if value.lower().startswith("en") else "ko"
    return "ko"


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
    if not params:
        return text
    return FORMATTER.format(text, **params) if _has_particles(text) else text.format(**params)


_PARTICLE_SPECS = tuple(f"{quote}{name}}}" for name in PAIRS for quote in (":", ":'"))
_particles_in: dict[str, bool] = {}


def _has_particles(text: str) -> bool:
    """Whether a message names a particle after a placeholder (``{name:을}``; i18n/particles.py)."""
    found = _particles_in.get(text)
    if found is None:
        found = _particles_in[text] = any(spec in text for spec in _PARTICLE_SPECS) or "|" in text
    return found


def both(key: str) -> tuple[str, str]:
    """The Korean and English text of ``key`` (for search in either language)."""
    return CATALOGS["ko"].get(key, key), CATALOGS["en"].get(key, key)
