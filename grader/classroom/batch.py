"""Grading a whole class: one submission per sub-folder (or notebook) of a folder.

The batch is cut into chunks; each chunk is graded by ``grade_chunk`` in a
process of its own (``grader/classroom/chunk_process.py``, or a Dask task in
``grader/classroom/dask_runner.py``), with its own sandbox and one pytest
session, so progress is visible and memory stays bounded however large the
class. A chunk that fails as a whole is split and its submissions are graded
one by one; a submission that still cannot be graded gets a row with 0 points
and a note, and the batch goes on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from grader import registry
from grader.grading import Settings, grade, new_seed
from grader.messages import message
from grader.registry import Exercise
from grader.results import CheckResult, ExerciseResult, SubmissionResult
from grader.runner.execute import Sandbox
from grader.submission import Submission, SubmissionError, exercises_held, load
from grader.submission.notebook import load_notebook
from grader.text_safety import MAX_CHARS, printable

NOT_GRADED = "not_graded"  # ExerciseResult.status of a submission that could not be graded


@dataclass(frozen=True)
class Entry:
    """One learner's submission in the batch folder."""

    student: str
    path: Path


@dataclass
class Row:
    """What the batch knows about one learner at the end."""

    student: str
    result: SubmissionResult
    note: str = ""  # why it was not graded, when it was not

    @property
    def graded(self) -> bool:
        return not self.note

    @property
    def seconds(self) -> float:
        """Time its code ran in the sandbox, all exercises together."""
        return sum(ex.seconds for ex in self.result.exercises)


@dataclass
class BatchResult:
    rows: list[Row]
    exercises: tuple[Exercise, ...]
    seed: int
    seconds: float
    runner: str = "local"
    extra: dict[str, object] = field(default_factory=dict)


class RunnerError(Exception):
    """The chunks could not be run at all (e.g. the Dask scheduler is unreachable)."""


Progress = Callable[[int, int], None]  # (submissions done, submissions in all)


Partial = Callable[[int, int], None]  # (chunk index, its submissions whose code has run)


class ChunkRunner(Protocol):
    """Runs ``grade_chunk`` on chunks somewhere, yielding each chunk's outcome as it ends.

    An outcome is the chunk's list of results, or an ``Exception`` saying why the
    chunk as a whole failed (the batch then grades its submissions one by one).
    ``on_partial``, where the runner can tell, reports progress inside a chunk.
    """

    name: str

    def run(
        self,
        chunks: list[list[Submission]],
        exercises: tuple[Exercise, ...],
        settings: Settings,
        on_partial: Partial | None = None,
    ) -> Iterator[tuple[int, list[SubmissionResult] | Exception]]: ...


# -- finding and reading submissions ------------------------------------------------------


def discover(folder: Path) -> list[Entry]:
    """Sub-folders and notebooks of ``folder``, sorted; hidden names are skipped.
    A learner is named after the folder or notebook, as one printable line
    (``grader.text_safety.printable``: odd bytes and control characters escaped)."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder} is not a folder")
    entries: list[Entry] = []
    taken: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")):
            continue
        if path.is_dir() or path.suffix == ".ipynb":
            name = path.name.removesuffix(".ipynb") if path.suffix == ".ipynb" else path.name
            student = printable(name)
            while student in taken:  # alice/ and alice.ipynb both present
                student += "_"
            taken.add(student)
            entries.append(Entry(student, path))
    if not entries:
        raise SubmissionError(f"{folder} holds no submissions (one sub-folder or .ipynb each)")
    return entries


def class_exercises(
    entries: list[Entry], root: Path, *, only: Iterable[str] = (), units: Iterable[int] = ()
) -> tuple[Exercise, ...]:
    """The exercises the whole class is graded on, the columns of its grades.csv:
    every unit some submission holds an exercise of (``grader.registry.to_grade``),
    unless ``only`` (``--only``) or ``units`` (``--unit``) say otherwise. Every
    learner is graded on the same exercises, so a missing file costs its points."""
    only, units = tuple(only), tuple(units)
    held: set[str] = set()
    for entry in [] if only or units else entries:
        if entry.path.is_symlink() and not entry.path.resolve().is_relative_to(root):
            continue  # refused when loaded
        held |= exercises_held(entry.path, root=root)
    return registry.to_grade(held, names=only, units=units)


def load_entry(entry: Entry, exercises: tuple[Exercise, ...], root: Path) -> Submission:
    """Read one submission; raises SubmissionError when there is nothing to grade."""
    path = entry.path
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise SubmissionError("it is a link to a place outside the submissions folder")
        if path.suffix == ".ipynb" and not path.is_dir():
            sub = load_notebook(path, exercises, sid=entry.student, root=root)
        else:
            sub = load(path, exercises, sid=entry.student)
    except SubmissionError:
        raise
    except (OSError, ValueError, UnicodeError) as exc:
        raise SubmissionError(f"it could not be read ({type(exc).__name__}: {exc})") from None
    # The sandbox gives one overall time budget to each folder of the file names it
    # is given; a notebook's sources are named after the notebook alone, so without
    # this every notebook of a chunk would share one budget.
    for source in sub.sources.values():
        if Path(source.filename).parent == Path("."):
            source.filename = f"{entry.student}/{source.filename}"
    return sub


# -- results for submissions that could not be graded -------------------------------------


def not_graded(
    student: str, exercises: tuple[Exercise, ...], seed: int, key: str, why: str
) -> SubmissionResult:
    """0 points for every exercise, each saying why."""
    feedback = message(key, why=why)
    return SubmissionResult(
        student,
        [
            ExerciseResult(
                name=ex.name,
                title=ex.title,
                file=ex.file,
                score=0.0,
                max_score=ex.points,
                passed=False,
                status=NOT_GRADED,
                checks=[CheckResult("submission", 0.0, ex.points, False, feedback)],
            )
            for ex in exercises
        ],
        seed,
        "cpu",
    )


# -- the batch ----------------------------------------------------------------------------


def grade_chunk(
    submissions: list[Submission],
    exercises: tuple[Exercise, ...],
    settings: Settings,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[SubmissionResult]:
    """Grade a chunk in this process: one sandbox, one pytest session.
    ``on_progress(runs done, runs in all)`` follows the sandboxed runs."""
    with Sandbox(settings.limits) as box:
        return grade(submissions, exercises, settings, sandbox=box, on_progress=on_progress)


def chunk_size_for(count: int, jobs: int, requested: int = 0) -> int:
    """Chunks small enough that every process stays busy (two per process), large
    enough that a chunk's start-up (its sandbox, the hidden inputs and references,
    a pytest session; on a GPU, CUDA in the chunk's process) is shared by many
    submissions. Progress moves with every submission either way."""
    if requested > 0:
        return requested
    return max(1, min(32, math.ceil(count / max(1, jobs * 2))))


def chunked(items: list[Submission], size: int) -> list[list[Submission]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def grade_batch(
    *,
    entries: list[Entry],
    root: Path,
    exercises: tuple[Exercise, ...],
    settings: Settings,
    runner: ChunkRunner,
    chunk_size: int,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Grade every entry; never stops for one submission's sake."""
    started = time.monotonic()
    seed = settings.seed if settings.seed is not None else new_seed()
    settings = replace(settings, seed=seed)  # the whole class gets the same hidden inputs
    rows: dict[str, Row] = {}
    loaded: list[Submission] = []
    for entry in entries:
        try:
            loaded.append(load_entry(entry, exercises, root))
        except SubmissionError as exc:
            why = printable(str(exc), MAX_CHARS)  # it may quote the learner's file names
            result = not_graded(entry.student, exercises, seed, "batch.not_graded", why)
            rows[entry.student] = Row(entry.student, result, why)
    total = len(entries)
    done = len(rows)
    partial: dict[int, int] = {}  # chunk index -> submissions whose code has run

    def report() -> None:
        if on_progress:
            on_progress(min(total, done + sum(partial.values())), total)

    def running(index: int, count: int) -> None:
        partial[index] = count
        report()

    def finished(index: int, results: Iterable[SubmissionResult]) -> None:
        nonlocal done
        partial.pop(index, None)
        for result in results:
            rows[result.submission] = Row(result.submission, result)
            done += 1
        report()

    report()
    retry: list[Submission] = []
    chunks = chunked(loaded, chunk_size)
    for index, outcome in runner.run(chunks, exercises, settings, running):
        if isinstance(outcome, Exception):
            partial.pop(index, None)
            retry.extend(chunks[index])
        else:
            finished(index, outcome)
    if retry:  # grade the submissions of failed chunks one by one
        singles = [[sub] for sub in retry]
        for index, outcome in runner.run(singles, exercises, settings):
            if isinstance(outcome, Exception):
                sub = singles[index][0]
                why = str(outcome) or type(outcome).__name__
                result = not_graded(sub.id, exercises, seed, "batch.grading_failed", why)
                rows[sub.id] = Row(sub.id, result, why)
                done += 1
                report()
            else:
                finished(-1 - index, outcome)
    ordered = [rows[entry.student] for entry in entries if entry.student in rows]
    return BatchResult(ordered, exercises, seed, time.monotonic() - started, runner.name)
