"""What a check receives: the hidden cases of one exercise and what came back."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from grader.cases import Case
from grader.messages import Feedback, message
from grader.registry import Exercise
from grader.runner.execute import Observation, Outcome

R = TypeVar("R")


def per_case(compute: Callable[[Case], R]) -> Callable[[Case], R]:
    """``compute(case)`` once per case: every submission in a grading shares the same
    cases, so a reference is computed once, not once per submission. (The cached
    result is only read, never changed.)"""
    key = f"{compute.__module__}.{compute.__qualname__}"

    @functools.wraps(compute)
    def cached(case: Case) -> R:
        if key not in case.memo:
            case.memo[key] = compute(case)
        return case.memo[key]

    return cached


class CheckFailed(Exception):
    """A check's verdict with the feedback a learner reads."""

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.key)
        self.feedback = feedback


def weight(points: float) -> pytest.MarkDecorator:
    """The share of the exercise's points that a check carries."""
    return pytest.mark.weight(points)


@dataclass
class ExerciseRun:
    submission: str
    exercise: Exercise
    cases: list[Case]
    outcome: Outcome
    source: str | None

    def __repr__(self) -> str:  # pytest shows this id; keep it short
        return f"{self.submission}:{self.exercise.name}"

    def require_ran(self) -> None:
        if self.outcome.status != "ok":
            raise CheckFailed(outcome_feedback(self.exercise, self.outcome))
        if len(self.outcome.observations) != len(self.cases):
            raise CheckFailed(message("outcome.bad_output", why="wrong number of results"))

    def each(self) -> Iterator[tuple[Case, Observation]]:
        """Cases with real values, each with what came back; raises on errors.

        Cases that returned come first, so a wrong value (which feedback can
        name) is reported before an exception that another case raised.
        """
        self.require_ran()
        raised = None
        for case, obs in zip(self.cases, self.outcome.observations, strict=True):
            if case.meta.get("grad_mode_only"):
                continue
            if obs.status != "ok":
                raised = raised or obs
                continue
            yield case, obs
        if raised is not None:
            raise CheckFailed(raised_feedback(self.exercise, raised))

    def grad_mode_only(self) -> Iterator[tuple[Case, Observation]]:
        """Cases called with gradient recording off only to see that the function
        leaves it off (``draw.grad_mode_off``); a call that raised is not counted."""
        self.require_ran()
        for case, obs in zip(self.cases, self.outcome.observations, strict=True):
            if case.meta.get("grad_mode_only") and obs.status == "ok":
                yield case, obs


def outcome_feedback(exercise: Exercise, outcome: Outcome) -> Feedback:
    d = outcome.detail
    name, file = exercise.name, exercise.file
    status = outcome.status
    if status == "missing_file":
        return message("outcome.missing_file", file=file, name=name)
    if status == "unreadable_file":
        return message("outcome.unreadable_file", file=file, why=d.get("why", ""))
    if status == "import_error":
        err = d.get("error") or {}
        return message("outcome.import_error", file=file, error=error_said(err))
    if status == "missing_function":
        defined = ", ".join(d.get("defined") or []) or "-"
        return message("outcome.missing_function", file=file, name=name, defined=defined)
    if status == "timeout" and d.get("limit") == "total":
        return message("outcome.total_timeout", name=name, seconds=_num(d.get("seconds", "?")))
    if status == "timeout":
        return message("outcome.timeout", name=name, seconds=_num(d.get("seconds", "?")))
    if status == "threads":
        return message("outcome.threads", name=name)
    if status == "memory":
        return message("outcome.memory", name=name, mb=d.get("mb", "?"))
    if status == "exited":
        return message("outcome.exited", name=name, code=d.get("code", "?"))
    if status == "crashed":
        return message("outcome.crashed", name=name, signal=d.get("signal", "?"))
    if status == "sandbox_error":
        return message("outcome.sandbox_error", name=name)
    return message("outcome.bad_output", why=str(d.get("why", status))[:200])


def raised_feedback(exercise: Exercise, obs: Observation) -> Feedback:
    err = obs.error or {}
    kind = str(err.get("type", "Exception"))
    if kind == "NotImplementedError":
        return message("raised.not_implemented", name=exercise.name, file=exercise.file)
    if kind == "SystemExit":
        return message("raised.system_exit", name=exercise.name, code=err.get("exit_code", "?"))
    return message("raised.exception", name=exercise.name, error=error_said(err))


def error_said(err: dict) -> str | Feedback:
    """``Type: message`` from a recorded exception, followed by where it was raised
    (``(line N: code)``) when that is known. The location is a catalogue fragment,
    so it is rendered in the reader's language with the sentence that quotes it."""
    said = f"{err.get('type', 'Exception')}: {err.get('message', '')}".rstrip(": ")
    frames = err.get("frames") or []
    where = frames[-1] if frames else err if err.get("line") else None
    if not where:
        return said
    code = str(where.get("code") or "").strip()
    return message("raised.at_line", error=said, line=where.get("line"), code=code)


def _num(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)
