"""The date field of every filter (callback list, assignment, processing status, SMS history)."""

from __future__ import annotations

from datetime import date

from textual.widgets import Input


def date_input(day: date, *, id: str, tooltip: str) -> Input:
    """A compact YYYY-MM-DD field holding ``day``: digits and '-' only, ten characters at most (the core
    says what is wrong with a date that does not parse)."""
    return Input(
        str(day),
        placeholder="YYYY-MM-DD",
        id=id,
        compact=True,
        max_length=10,
        restrict=r"[0-9-]*",
        tooltip=tooltip,
    )
