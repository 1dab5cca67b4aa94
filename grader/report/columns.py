"""How many terminal columns text takes: Chinese characters take two."""

from __future__ import annotations

import unicodedata


def width(s: str) -> int:
    """Columns ``s`` takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s: str, columns: int) -> str:
    """``s`` padded with spaces to ``columns`` terminal columns."""
    return s + " " * max(0, columns - width(s))
