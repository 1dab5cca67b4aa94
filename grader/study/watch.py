"""``grade watch``: grade on start and on every save, until the learner quits.

Files are polled (a few small reads a second), so every way an editor saves
works: in place, by writing a new file and renaming it over the old one, or
through swap files. A change is graded once the file has stopped changing for
a moment (debounce), and only the exercises whose code changed are graded
again, by one sandbox kept for the whole session.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from grader.hints import hints_for
from grader.messages import text
from grader.report import study as screen
from grader.study.checking import Checker
from grader.study.folder import LearnerFolder
from grader.study.keys import KeyReader

POLL_SECONDS = 0.04  # a few small reads, 25 times a second
SETTLE_SECONDS = 0.04  # a file must stay unchanged this long (one more poll) before it is graded


@dataclass
class WatchSession:
    folder: LearnerFolder
    checker: Checker
    lang: str
    color: bool
    manual: bool
    echo: Callable[[str], None] = click.echo
    clear: Callable[[], None] = click.clear
    hint_level: dict[str, int] = field(default_factory=dict)

    def grade(self, *, everything: bool = False) -> None:
        self.folder.read()
        todo = self.folder.stale(everything=everything)
        if todo:
            names = ", ".join(ex.name for ex in todo)
            self.echo(text("study.checking", self.lang, names=names))
            self.checker.grade(self.folder, todo)
        self.draw()

    def draw(self) -> None:
        self.clear()
        shown = str(self.folder.path)
        statuses = self.folder.statuses()
        self.echo(
            screen.render_watch(statuses, self.lang, self.color, manual=self.manual, path=shown)
        )

    def hint(self) -> None:
        current = screen.first_unfinished(self.folder.statuses())
        if current is None:
            self.echo(text("study.all_done", self.lang, total=len(self.folder.statuses())))
            return
        ex = current.exercise
        hints = hints_for(ex.name, self.lang)
        level = min(self.hint_level.get(ex.name, 0) + 1, len(hints))
        self.hint_level[ex.name] = level
        self.echo("\n" + screen.render_hint(ex, level, hints, self.lang, self.color))

    def show_list(self) -> None:
        self.echo("\n" + screen.render_list(self.folder.statuses(), self.lang, self.color))

    def press(self, key: str) -> bool:
        """Act on one key; False means quit."""
        key = key.lower()
        if key in ("q", "\x04"):
            return False
        if key == "h":
            self.hint()
        elif key == "r":
            self.grade(everything=True)
        elif key in ("\n", "\r"):
            self.grade()  # what changed since the last grading
        elif key == "l":
            self.show_list()
        return True


def watch(
    *,
    path: Path,
    lang: str,
    color: bool,
    manual: bool,
    timeout: float | None,
    memory: int,
) -> None:
    """Run the watch loop until the learner presses q (or Ctrl-C)."""
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        with Checker(timeout=timeout, memory=memory) as checker, KeyReader() as keys:
            session = WatchSession(LearnerFolder(path), checker, lang, color, manual)
            session.grade(everything=True)
            _loop(session, keys)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(text("study.bye", lang, path=str(path)))


def _loop(session: WatchSession, keys: KeyReader) -> None:
    seen = dict(session.folder.digests)
    changed_at: float | None = None
    while True:
        for key in keys.read(POLL_SECONDS):
            if not session.press(key):
                return
        if session.manual:
            continue
        now_seen = session.folder.read()
        now = time.monotonic()
        if now_seen != seen:
            seen, changed_at = now_seen, now
        elif changed_at is not None and now - changed_at >= SETTLE_SECONDS:
            changed_at = None
            session.grade()


def _exit_quietly(*_: object) -> None:
    sys.exit(0)
