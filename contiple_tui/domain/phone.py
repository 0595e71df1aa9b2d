"""Korean telephone numbers: stored as digits, shown with hyphens."""

from __future__ import annotations


def format_phone(number: str) -> str:
    """0212345678 → 02-1234-5678, 01012345678 → 010-1234-5678, 15880001 → 1588-0001."""
    n = number
    if not n.isdigit():
        return n
    if len(n) == 8:
        return f"{n[:4]}-{n[4:]}"
    if n.startswith("02") and len(n) in (9, 10):
        return f"02-{n[2:-4]}-{n[-4:]}"
    if len(n) in (10, 11):
        return f"{n[:3]}-{n[3:-4]}-{n[-4:]}"
    return n
