"""Grading a learner's folder a few exercises at a time, with one sandbox.

The sandbox's zygote is forked once; every later grading (each save in watch
mode) only forks a worker per exercise that changed.
"""

from __future__ import annotations

from grader.grading import Settings, grade
from grader.registry import Exercise
from grader.results import ExerciseResult
from grader.runner.execute import Limits, Sandbox
from grader.study.folder import LearnerFolder
from grader.submission import Submission


class Checker:
    def __init__(self, *, timeout: float | None = None, memory: int = 1024) -> None:
        self.limits = Limits(timeout=timeout or 5.0, memory_mb=memory)
        self.sandbox = Sandbox(self.limits)

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.sandbox.close()

    def grade(self, folder: LearnerFolder, exercises: tuple[Exercise, ...]) -> list[ExerciseResult]:
        """Grade ``exercises`` from the sources ``folder`` read last; remember the results."""
        if not exercises:
            return []
        submission = Submission(
            folder.path.name or str(folder.path),
            folder.path,
            {ex.file: folder.sources[ex.name] for ex in exercises},
        )
        settings = Settings(device="cpu", limits=self.limits)
        (result,) = grade([submission], exercises, settings, sandbox=self.sandbox)
        folder.remember(result.exercises)
        return result.exercises


def bring_up_to_date(
    folder: LearnerFolder, *, timeout: float | None = None, memory: int = 1024
) -> None:
    """Read ``folder`` and grade only what changed since it was last graded."""
    folder.read()
    stale = folder.stale()
    if stale:
        with Checker(timeout=timeout, memory=memory) as checker:
            checker.grade(folder, stale)
