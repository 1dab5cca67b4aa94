"""The result model: plain data that every report format renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.messages import Feedback


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    passed: bool
    feedback: Feedback | None
    gated: bool = False  # passed, but earns nothing because the values are wrong


@dataclass
class ExerciseResult:
    name: str
    title: str
    file: str
    score: float
    max_score: float
    passed: bool
    status: str  # how the learner's code ran: ok, timeout, missing_file, ...
    checks: list[CheckResult]
    seconds: float = 0.0

    @property
    def feedback(self) -> Feedback | None:
        """The first failing check's feedback (None when everything passed)."""
        for check in self.checks:
            if not check.passed:
                return check.feedback
        return None


@dataclass
class SubmissionResult:
    submission: str
    exercises: list[ExerciseResult]
    seed: int
    device: str
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
    # which isolation graded it: {"runs_as", "holds", "missing"} (None: nothing ran)
    sandbox: dict[str, Any] | None = None

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)
