"""Control characters that act without an escape sequence: 8-bit CSI (0x9b), NEL,
backspaces that rub out what was printed, bell, vertical tab, form feed, DEL, the
Unicode line separator and bidi overrides that reorder what is shown. The
grader: 0 points, and each shows as a visible escape (``\\x9b``, ``\\u202e``)."""

HIDDEN = (
    "\x9b2J\x850/10"  # 8-bit CSI: clear the screen; next line
    "\b\b\b\b\b10/10\x07\x0b\x0c\x7f"  # rub out, bell, vertical tab, form feed, DEL
    "\u2028\u202e01/08\u202c\u2066\u2069"  # line separator, bidi override and isolates
)


def detach_alias(x):
    raise ValueError(HIDDEN)
