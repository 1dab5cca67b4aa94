"""Which exercises a submission on disk holds, and so which units it is graded on.

A folder holds each exercise whose ``exNN_*.py`` file is there (whatever it
contains: an unreadable file is still the learner's attempt); a notebook holds
each exercise whose function its code cells define. The rule that turns this into
the exercises graded is the registry's (``grader.registry.to_grade``). Nothing is
run: notebooks are only parsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from grader import registry
from grader.registry import EXERCISES, Exercise
from grader.submission.locate import locate
from grader.submission.model import SubmissionError
from grader.submission.notebook import notebook_defines


def exercises_held(path: Path, *, root: Path | None = None) -> frozenset[str]:
    """Names of the exercises found in the submission at ``path`` (none when it cannot
    be read). ``root``: for a notebook given directly, the folder it must stay in."""
    try:
        if path.suffix == ".ipynb" and not path.is_dir():
            return notebook_defines(path, root, EXERCISES)
        where = locate(path)
    except (SubmissionError, OSError):
        return frozenset()
    if where.notebook:
        return notebook_defines(where.path, where.root, EXERCISES)
    return frozenset(
        ex.name
        for ex in EXERCISES
        if (where.path / ex.file).is_symlink() or (where.path / ex.file).exists()
    )


def exercises_to_grade(
    path: Path, *, only: Iterable[str] = (), units: Iterable[int] = ()
) -> tuple[Exercise, ...]:
    """The exercises ``grade PATH`` grades: the units the submission holds, unless
    ``only`` (``--only``) or ``units`` (``--unit``) say otherwise. Raises as
    ``grader.registry.select``."""
    only, units = tuple(only), tuple(units)
    held = frozenset() if only or units else exercises_held(path)  # nothing to read then
    return registry.to_grade(held, names=only, units=units)
