"""Building synthetic classes for the benchmarks: submissions of one unit's files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import registry  # noqa: E402

UNIT = 1  # classes hand in the first unit, so the figures compare with earlier ones


def copy_unit(source: Path, target: Path, *, unit: int = UNIT) -> None:
    """The files of one unit from ``source`` (solutions/, say) into a new ``target``."""
    target.mkdir(parents=True)
    for ex in registry.EXERCISES:
        if ex.unit == unit:
            shutil.copy(source / ex.file, target / ex.file)


def grade_command() -> str:
    """The ``grade`` of this interpreter's environment, else the one on PATH (the GPU
    check runs the checkout through a ``grade`` it puts there)."""
    beside = Path(sys.executable).parent / "grade"
    return str(beside) if beside.exists() else (shutil.which("grade") or "grade")
