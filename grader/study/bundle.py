"""Where the pristine stubs and reference solutions live.

A wheel carries them inside the package, in ``grader/_bundled/`` (``setup.py``
copies the top-level ``exercises/`` and ``solutions/`` folders there when it
builds). A source checkout or an editable install reads those top-level folders
directly, so they stay the one source of truth.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from grader.registry import EXERCISES, Exercise

KINDS = ("exercises", "solutions")
PACKAGE = Path(__file__).resolve().parent.parent  # the installed grader/ folder


class BundleMissing(Exception):
    """Neither the installed package nor a source checkout holds the files."""


@cache
def folder(kind: str) -> Path:
    """The folder holding the pristine ``kind`` files (``exercises`` or ``solutions``)."""
    if kind not in KINDS:
        raise ValueError(kind)
    for candidate in (PACKAGE / "_bundled" / kind, PACKAGE.parent / kind):
        if all((candidate / ex.file).is_file() for ex in EXERCISES):
            return candidate
    raise BundleMissing(f"no {kind} folder in the installed package ({PACKAGE})")


def stub_text(exercise: Exercise) -> str:
    return (folder("exercises") / exercise.file).read_text(encoding="utf-8")


def solution_text(exercise: Exercise) -> str:
    return (folder("solutions") / exercise.file).read_text(encoding="utf-8")
