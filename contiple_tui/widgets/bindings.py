"""Bindings whose descriptions are message keys, translated when a widget is built.

Class-level ``BINDINGS`` are evaluated once at import, but the language is chosen at run time (and
tests use both in one process), so each node's binding map is translated per instance.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from contiple_tui.i18n import t


def translate_description(text: str) -> str:
    """A binding's description in the user's language: a message key, or Textual's English."""
    if not text:
        return text
    if text.startswith("key."):
        return t(text)
    # Textual's own widgets describe their keys in English; translate the ones we know.
    translated = t("tx." + text)
    return text if translated.startswith("tx.") else translated


def localize_bindings(node: DOMNode) -> None:
    keys: dict[str, list[Binding]] = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = [
            replace(
                b, description=translate_description(b.description), tooltip=translate_description(b.tooltip)
            )
            for b in bindings
        ]
    node._bindings = BindingsMap.from_keys(keys)


class Localized:
    """Mixin: translate this widget's binding descriptions when it is created."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        localize_bindings(self)  # type: ignore[arg-type]
