"""Grade submissions: run learners' code in the sandbox, then the hidden checks.

``grade`` is the one entry point that every command uses. The sandbox's zygote
is forked before any hidden input exists, so no worker can see them.
"""

from __future__ import annotations

import importlib
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from grader.cases import Case
from grader.checks.draw import Draw
from grader.checks.plugin import CheckVerdict, run_checks
from grader.checks.run import ExerciseRun
from grader.messages import message
from grader.registry import EXERCISES, Exercise
from grader.results import CheckResult, ExerciseResult, SubmissionResult
from grader.runner.execute import Job, Limits, Sandbox
from grader.submission import Submission

# Workers fork with the check modules (and so their probes) already imported.
CHECK_MODULES = {ex.name: importlib.import_module(ex.check_module) for ex in EXERCISES}

Progress = Callable[[int, int], None]


CREDIT_POLICIES = ("gate", "checks")
"""How an exercise's points are earned: ``gate`` (the default) counts the ``type``
and ``side_effects`` points only when the ``values`` check passes, so an answer
with wrong values earns nothing; ``checks`` counts every passing check."""

GATE = "values"  # the check the others' points wait on


@dataclass(frozen=True)
class Settings:
    device: str = "cpu"
    seed: int | None = None
    limits: Limits = Limits()
    jobs: int = 0  # 0: one per core
    credit: str = "gate"  # CREDIT_POLICIES


def new_seed() -> int:
    return secrets.randbits(48)


def draw_cases(exercise: Exercise, seed: int, device: str) -> list[Case]:
    cases = CHECK_MODULES[exercise.name].draw_cases(Draw(seed, exercise.order, device))
    for case in cases:
        case.meta.setdefault("device", device)
        if device == "cpu":  # on a GPU, the inputs' real device shows the same
            # every case (each kind can hide a slip), but one a plan pins to the CPU
            case.meta.setdefault("watch_device", True)
    return cases


def grade(
    submissions: list[Submission],
    exercises: tuple[Exercise, ...],
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    on_progress: Progress | None = None,
) -> list[SubmissionResult]:
    started = time.monotonic()
    own = sandbox is None
    box = sandbox or Sandbox(settings.limits)
    try:
        seed = settings.seed if settings.seed is not None else new_seed()
        cases = {ex.name: draw_cases(ex, seed, settings.device) for ex in exercises}
        call = secrets.token_hex(6)  # each call starts every submission's overall budget afresh
        done = 0
        total = len(submissions) * len(exercises)

        def run_one(sub: Submission) -> list[ExerciseRun]:
            """All of one submission's exercises, in one sandboxed worker."""
            jobs = [
                Job(ex, src.text, src.filename, cases[ex.name], src.problem, f"{call}/{sub.id}")
                for ex in exercises
                for src in [sub.sources[ex.file]]
            ]
            outcomes = box.run_all(jobs)
            return [
                ExerciseRun(sub.id, job.exercise, job.cases, outcome, job.source)
                for job, outcome in zip(jobs, outcomes, strict=True)
            ]

        runs: list[ExerciseRun] = []
        with ThreadPoolExecutor(max_workers=settings.jobs or os.cpu_count() or 1) as pool:
            for found in pool.map(run_one, submissions):
                runs += found
                done += len(found)
                if on_progress:
                    on_progress(done, total)
        isolation = box.isolation().report()
    finally:
        if own:
            box.close()
    verdicts = run_checks(runs)
    elapsed = time.monotonic() - started
    by_key: dict[tuple[str, str], list[CheckVerdict]] = {}
    for v in verdicts:
        by_key.setdefault((v.submission, v.exercise), []).append(v)
    run_of = {(r.submission, r.exercise.name): r for r in runs}
    return [
        SubmissionResult(
            sub.id,
            [
                _exercise_result(
                    ex,
                    run_of[sub.id, ex.name],
                    by_key.get((sub.id, ex.name), []),
                    settings.credit,
                )
                for ex in exercises
            ],
            seed,
            settings.device,
            elapsed,
            sandbox=isolation,
        )
        for sub in submissions
    ]


def _exercise_result(
    ex: Exercise, run: ExerciseRun, verdicts: list[CheckVerdict], credit: str = "gate"
) -> ExerciseResult:
    total = sum(v.weight for v in verdicts)
    values_right = all(v.passed for v in verdicts if v.check == GATE)
    checks = []
    for v in verdicts:
        share = round(ex.points * v.weight / total, 6)
        gated = credit == "gate" and v.passed and not values_right and v.check != GATE
        earned = share if v.passed and not gated else 0.0
        checks.append(CheckResult(v.check, earned, share, v.passed, v.feedback, gated))
    if not checks:  # no verdict at all can never mean a pass
        checks = [CheckResult("checks", 0.0, ex.points, False, message("internal.no_verdict"))]
    score = round(sum(c.score for c in checks), 6)
    return ExerciseResult(
        name=ex.name,
        title=ex.title,
        file=ex.file,
        score=score,
        max_score=ex.points,
        passed=all(c.passed for c in checks),
        status=run.outcome.status,
        checks=checks,
        seconds=run.outcome.seconds,
    )
