"""Text that learners control, made safe to keep, to store and to show.

Learners' code decides every string a worker sends back (exception messages and
type names, the names a file defines, the type name of whatever it returns), and
learners choose the names of their files and folders. Such text may hold lone
surrogates (which no UTF-8 output can encode), NUL, megabytes, or terminal
control sequences that clear the screen, move the cursor or draw a fake
"✓ 80/80". Three pure functions keep it harmless:

* ``clean`` where text enters the grader's process (a worker's answers): lone
  surrogates become U+FFFD, NUL goes, the length is capped with an ellipsis.
  ``clean_data`` does the same to every string of a decoded JSON document.
* ``escape_controls`` where text is shown (every sentence a learner reads gets its
  parameters through it, and the text, JUnit, Gradescope and summary renderers
  apply it again): control characters, bidi controls and the characters XML
  refuses become visible escapes such as ``\\x1b``, ``\\r`` or ``\\u202e``, so
  they do nothing. Printable text stays as it is (Chinese stays Chinese).
* ``printable`` for names read from disk and messages that quote them: bytes
  that are not UTF-8 (``os.listdir`` returns them as surrogate escapes) become
  ``\\xNN``, and the result is one printable, capped line.
"""

from __future__ import annotations

import re
from typing import Any

MAX_CHARS = 2000  # characters kept of one string from a learner
MAX_NAME = 200  # characters kept of a file or folder name
MAX_DEPTH = 32  # nesting kept of a learner-controlled JSON document
ELLIPSIS = "…"

_SURROGATES = re.compile("[\ud800-\udfff]")
# What a terminal acts on instead of printing, or what XML 1.0 cannot hold:
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 controls (ESC, CR, BS, ...), DEL, C1 controls (CSI, OSC, NEL)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi controls (reorder what is shown)
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates
    "\ufffe\uffff]"  # noncharacters
)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def clean(text: str, limit: int | None = MAX_CHARS) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, NUL removed, and at most
    ``limit`` characters (the last one an ellipsis when it was cut; None: no cap)."""
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    if "\0" in text:
        text = text.replace("\0", "")
    return _SURROGATES.sub("\ufffd", text)


def clean_data(value: Any, limit: int | None = MAX_CHARS, *, depth: int = 0) -> Any:
    """A JSON-like document (dicts, lists, strings, numbers) with every string,
    keys included, passed through ``clean``. Containers nested deeper than
    ``MAX_DEPTH`` become None."""
    if isinstance(value, str):
        return clean(value, limit)
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {
            clean(k, limit) if isinstance(k, str) else k: clean_data(v, limit, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [clean_data(v, limit, depth=depth + 1) for v in value]
    return value


def escape_controls(text: str, *, keep: str = "\n\t") -> str:
    """``text`` with every character a terminal would act on shown as an escape
    instead (``\\x1b``, ``\\r``, ``\\x9b``, ``\\u202e``, ``\\ud800``); the
    characters in ``keep`` (newline and tab by default) stay as they are.

    The result is safe to print, to encode as UTF-8 and to put in XML."""

    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escaped, text)


def printable(text: str, limit: int = MAX_NAME) -> str:
    """A file or folder name (or a message quoting one) as one printable line:
    bytes that were not UTF-8 shown as ``\\xNN``, control characters (newlines
    included) escaped, at most ``limit`` characters."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that no file name decoding made
        pass  # escape_controls shows them as \udXXX
    return clean(escape_controls(text, keep=""), limit)
