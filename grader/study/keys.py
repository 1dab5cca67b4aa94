"""Single key presses from the terminal, without waiting for Enter.

On a terminal the input is switched to cbreak mode (keys arrive at once, Ctrl-C
still works) and restored on exit. From a pipe each line counts as one key
(an empty line is Enter); at the end of the input no more keys arrive.
"""

from __future__ import annotations

import os
import select
import sys
from typing import IO


class KeyReader:
    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdin
        self.fd = self.stream.fileno()
        self.terminal = os.isatty(self.fd)
        self.closed = False
        self._saved: list | None = None

    def __enter__(self) -> KeyReader:
        if self.terminal:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *_: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def read(self, timeout: float) -> str:
        """The keys pressed within ``timeout`` seconds ("" when none)."""
        if self.closed:
            select.select([], [], [], timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return ""
        data = os.read(self.fd, 1024)
        if not data:
            self.closed = True
            return ""
        keys = data.decode("utf-8", "replace")
        if self.terminal:
            return keys
        return "".join(line.strip()[:1] or "\n" for line in keys.splitlines())
