"""Shared test helpers: build submissions from the reference solutions, run the
installed ``grade`` command, and grade in-process through the public API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest

from grader import registry
from grader.grading import Settings, grade
from grader.results import SubmissionResult
from grader.runner.execute import Limits
from grader.submission import exercises_to_grade, load_folder

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"


def grade_command() -> str:
    """The installed ``grade`` console script of this interpreter's environment."""
    found = Path(sys.executable).parent / "grade"
    return str(found) if found.exists() else (shutil.which("grade") or "grade")


def run_grade(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [grade_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def grade_json(*args: str, cwd: Path | None = None) -> dict:
    proc = run_grade(*args, "--format", "json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


UNIT1 = registry.select(units=(1,))  # the tutorial's eight: 80 points
UNIT2 = registry.select(units=(2,))
ALL_POINTS = sum(ex.points for ex in registry.EXERCISES)  # grade solutions/: every unit


def copy_units(source: Path, target: Path, units: tuple[int, ...] = ()) -> Path:
    """``target`` holding the exercise files of ``units`` (all when none) from ``source``."""
    if not units:
        shutil.copytree(source, target)
        return target
    target.mkdir(parents=True)
    for ex in registry.select(units=units):
        shutil.copy(source / ex.file, target / ex.file)
    return target


def make_submission(
    tmp: Path,
    replace: dict[str, str] | None = None,
    base: Path = SOLUTIONS,
    units: tuple[int, ...] = (),
) -> Path:
    """A copy of ``base`` (solutions by default; only the files of ``units`` when
    given) with some files' code replaced."""
    folder = tmp / "submission"
    if folder.exists():
        shutil.rmtree(folder)
    copy_units(base, folder, units)
    for file, code in (replace or {}).items():
        (folder / file).write_text(textwrap.dedent(code))
    return folder


def grade_folder(
    folder: Path, *, seed: int = 1234, only: tuple[str, ...] = (), timeout: float = 5.0
) -> SubmissionResult:
    """Grade in this process through the public API (the same path the CLI takes:
    the units the folder holds, or ``only``)."""
    exercises = exercises_to_grade(folder, only=only)
    sub = load_folder(folder, exercises)
    settings = Settings(seed=seed, limits=Limits(timeout=timeout))
    (result,) = grade([sub], exercises, settings)
    return result


def unsafe_chars(said: str, keep: str = "\n\t") -> list[str]:
    """Characters in ``said`` that a terminal acts on instead of printing, or that
    XML or UTF-8 cannot hold: controls (ESC, CR, NUL, 8-bit CSI, ...), lone
    surrogates, bidi controls, line separators, noncharacters; ``keep`` aside."""
    return [
        c
        for c in said
        if c not in keep
        and (
            unicodedata.category(c) in ("Cc", "Cs")
            or c in "\u061c\u200e\u200f\u2028\u2029\ufffe\uffff"
            or "\u202a" <= c <= "\u202e"
            or "\u2066" <= c <= "\u2069"
        )
    ]


def by_name(result: SubmissionResult) -> dict:
    return {ex.name: ex for ex in result.exercises}


@pytest.fixture
def submission(tmp_path: Path):
    """``submission({"ex01_scalar_grad.py": code})``: solutions with files replaced
    (``units=(1,)``: only the first unit's files)."""

    def build(
        replace: dict[str, str] | None = None,
        base: Path = SOLUTIONS,
        units: tuple[int, ...] = (),
    ) -> Path:
        return make_submission(tmp_path, replace, base, units)

    return build
