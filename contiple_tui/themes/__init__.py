"""Themes registered with Textual's Theme API, and user theme files (TOML) named in the config."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from textual.theme import Theme

from contiple_tui.errors import ConfigError

# App-specific variables every theme may override (see get_theme_variable_defaults in app.py).
DEFAULT_VARIABLES = {"header-background": "#1E3A8A"}

BUILTIN_THEMES = (
    Theme(
        name="contiple-dark",
        primary="#3B82F6",
        secondary="#14B8A6",
        accent="#F59E0B",
        warning="#F59E0B",
        error="#EF4444",
        success="#22C55E",
        foreground="#E5E7EB",
        background="#0F172A",
        surface="#111827",
        panel="#1E293B",
        dark=True,
    ),
    Theme(
        name="contiple-light",
        primary="#1D4ED8",
        secondary="#0F766E",
        accent="#B45309",
        warning="#B45309",
        error="#B91C1C",
        success="#15803D",
        foreground="#111827",
        background="#F8FAFC",
        surface="#FFFFFF",
        panel="#E2E8F0",
        dark=False,
        variables={"header-background": "#BFDBFE"},
    ),
    # For wall TVs across a room: pure black, bright saturated colours, no subtle shades.
    Theme(
        name="contiple-contrast",
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FF00FF",
        warning="#FFFF00",
        error="#FF3030",
        success="#00FF00",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#1A1A1A",
        dark=True,
        variables={"header-background": "#000080"},
    ),
)

_THEME_FIELDS = {f.name for f in fields(Theme)} - {"ansi"}


def load_theme_file(path: Path) -> Theme:
    """A theme from a TOML file with Theme's fields (name and primary at least)."""
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("err.config_unreadable", file=file, reason=exc.strerror or str(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("err.config_syntax", file=file, reason=str(exc)) from None
    for key in data:
        if key not in _THEME_FIELDS:
            raise ConfigError("err.config_unknown_key", file=file, key=key)
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str):
            raise ConfigError(
                "err.config_type", file=file, key=key, expected="string", got=type(data.get(key)).__name__
            )
    try:
        theme = Theme(**data)
        theme.to_color_system()  # parses every colour now, not at first paint
    except Exception as exc:  # noqa: BLE001 - Theme raises several kinds for bad colours
        raise ConfigError("err.config_value_bad", file=file, key="theme", reason=str(exc)) from None
    return theme
