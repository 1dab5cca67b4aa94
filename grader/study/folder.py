"""A learner's exercise folder: what each file holds now, and how it last did.

Reading is cheap (no torch): ``grade list`` only starts a sandbox when some file
changed since it was last graded. A file still identical to its stub is "not
started" without being run at all.
"""

from __future__ import annotations

from pathlib import Path

from grader import registry
from grader.registry import EXERCISES, Exercise
from grader.results import ExerciseResult
from grader.study import bundle, progress
from grader.study.progress import MISSING, NOT_STARTED, Record, Status
from grader.submission import Source, read_source


def _stub_digests() -> dict[str, str]:
    try:
        return {ex.name: progress.digest(bundle.stub_text(ex)) for ex in EXERCISES}
    except (bundle.BundleMissing, OSError):
        return {}


class LearnerFolder:
    """The exercise files in ``path``, their saved progress and the latest results."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, Record] = progress.load(path)
        self.sources: dict[str, Source] = {}
        self.digests: dict[str, str | None] = {}  # None: the file is missing
        self.results: dict[str, tuple[str, ExerciseResult]] = {}  # name -> (digest, result)
        self._stubs = _stub_digests()

    def read(self) -> dict[str, str | None]:
        """Read every exercise file again; returns a digest per exercise."""
        root = self.path.resolve()
        for ex in EXERCISES:
            source = read_source(self.path / ex.file, root)
            self.sources[ex.name] = source
            self.digests[ex.name] = _digest(source)
        return dict(self.digests)

    def pristine(self, ex: Exercise) -> bool:
        stub = self._stubs.get(ex.name)
        return stub is not None and self.digests.get(ex.name) == stub

    def needs_grading(self, ex: Exercise) -> bool:
        code = self.digests.get(ex.name)
        if code is None or self.pristine(ex):
            return False
        record = self.records.get(ex.name)
        return record is None or record.digest != code

    def stale(self, *, everything: bool = False) -> tuple[Exercise, ...]:
        """Exercises to grade: changed since last graded (or all present, non-stub ones)."""
        return tuple(
            ex
            for ex in EXERCISES
            if self.needs_grading(ex)
            or (everything and self.digests.get(ex.name) is not None and not self.pristine(ex))
        )

    def remember(self, results: list[ExerciseResult]) -> None:
        """Keep results graded from the sources read last, and save progress."""
        for result in results:
            code = self.digests[result.name]
            if code is None:
                continue
            self.results[result.name] = (code, result)
            self.records[result.name] = progress.record_of(result, code)
        progress.save(self.path, self.records)

    def forget(self, ex: Exercise) -> None:
        self.records.pop(ex.name, None)
        self.results.pop(ex.name, None)
        progress.save(self.path, self.records)

    def exercises(self) -> tuple[Exercise, ...]:
        """The exercises of every unit the folder holds a file of, as read last
        (``grader.registry.to_grade``: the first unit when it holds none)."""
        return registry.to_grade(name for name, code in self.digests.items() if code is not None)

    def statuses(self) -> list[Status]:
        return [self.status(ex) for ex in self.exercises()]

    def status(self, ex: Exercise) -> Status:
        code = self.digests.get(ex.name)
        if code is None:
            return Status(ex, MISSING, 0.0)
        if self.pristine(ex):
            return Status(ex, NOT_STARTED, 0.0)
        record = self.records.get(ex.name)
        if record is None or record.digest != code:
            return Status(ex, progress.FAILING, 0.0)  # not graded yet: no points so far
        latest = self.results.get(ex.name)
        result = latest[1] if latest and latest[0] == code else None
        return Status(ex, record.state, record.score, result)


def _digest(source: Source) -> str | None:
    if source.text is None and not source.problem:
        return None
    if source.problem:
        return progress.digest("\0unreadable: " + source.problem)
    return progress.digest(source.text or "")
