"""A hang or an exit in one exercise costs that exercise only."""

from __future__ import annotations

import time

from conftest import by_name, grade_json


def test_hang_in_ex03_and_exit_in_ex05_cost_only_those(submission) -> None:
    folder = submission(
        {
            "ex03_partial_grads.py": """
                def partial_grads(f, *xs):
                    while True:
                        pass
            """,
            "ex05_accumulate.py": """
                import sys
                def accumulated_grad(f, x, times):
                    sys.exit(0)
            """,
        }
    )
    started = time.monotonic()
    report = grade_json(str(folder), "--timeout", "2")
    assert time.monotonic() - started < 30
    results = {e["name"]: e for e in report["exercises"]}
    assert (
        results["partial_grads"]["score"] == 0
        and "timed out" in results["partial_grads"]["feedback"]
    )
    assert results["accumulated_grad"]["score"] == 0
    assert "sys.exit" in results["accumulated_grad"]["feedback"]
    others = [e for name, e in results.items() if name not in ("partial_grads", "accumulated_grad")]
    assert len(others) == 6 and all(e["passed"] and e["score"] == 10.0 for e in others)
    assert report["score"] == 60.0


def test_os_exit_and_segfault_are_reported(submission) -> None:
    from conftest import grade_folder

    folder = submission(
        {
            "ex01_scalar_grad.py": """
                import os
                def scalar_grad(f, x):
                    os._exit(3)
            """,
            "ex02_vector_grad.py": """
                import ctypes
                def vector_grad(f, x):
                    ctypes.string_at(0)
            """,
        }
    )
    result = by_name(grade_folder(folder, only=("scalar_grad", "vector_grad")))
    assert result["scalar_grad"].status == "exited"
    assert "exit code 3" in result["scalar_grad"].feedback.render()
    assert result["vector_grad"].status == "crashed"
    assert "SIGSEGV" in result["vector_grad"].feedback.render()


def test_overall_budget_starts_afresh_with_each_grade_call() -> None:
    """A long-lived sandbox (watch mode keeps one) must not carry a submission's
    overall time budget from one grading to the next."""
    from conftest import SOLUTIONS

    from grader import registry
    from grader.grading import Settings, grade
    from grader.runner.execute import Limits, Sandbox
    from grader.submission import load_folder

    exercises = registry.select(("scalar_grad",))
    limits = Limits(timeout=2.0, total=1.5)
    with Sandbox(limits) as box:
        for _ in range(2):
            sub = load_folder(SOLUTIONS, exercises)
            (result,) = grade([sub], exercises, Settings(seed=3, limits=limits), sandbox=box)
            assert result.score == 10.0, result.exercises[0].feedback
            time.sleep(1.6)  # longer than the whole budget


def test_only_the_learners_code_counts_against_the_time_limit(submission) -> None:
    """A source that names torch.func makes its worker import torch._dynamo (about a
    second) before the learner's code runs. That is the grader's time: with a limit
    shorter than the import, the exercise still earns full marks."""
    folder = submission(
        {
            "ex01_scalar_grad.py": """
                import torch
                def scalar_grad(f, x):
                    return torch.func.grad(f)(x).detach()
            """,
        }
    )
    started = time.monotonic()
    report = grade_json(str(folder), "--only", "scalar_grad", "--timeout", "0.9", "--seed", "2")
    took = time.monotonic() - started
    (ex,) = report["exercises"]
    assert ex["score"] == 10.0, ex["feedback"]
    assert took > 0.9  # the import did take longer than the limit


def test_a_slow_start_is_never_the_learners_timeout() -> None:
    """When the worker cannot even get ready (here: a start-up limit too short for
    any worker), the exercise is reported as the grader's trouble, not as a
    timeout of the learner's code."""
    from conftest import SOLUTIONS

    from grader import registry
    from grader.grading import Settings, grade
    from grader.runner import execute
    from grader.submission import load_folder

    exercises = registry.select(("scalar_grad",))
    limits = execute.Limits(timeout=5.0)
    saved = execute.START_SECONDS
    execute.START_SECONDS = 0.0  # max(0, 4 * 0.001): no worker is ready that fast
    try:
        with execute.Sandbox(execute.Limits(timeout=0.001)) as box:
            sub = load_folder(SOLUTIONS, exercises)
            (result,) = grade([sub], exercises, Settings(seed=3, limits=limits), sandbox=box)
    finally:
        execute.START_SECONDS = saved
    (ex,) = result.exercises
    assert ex.status == "sandbox_error"
    assert ex.score == 0.0
    assert "not a mistake in your code" in ex.feedback.render()
