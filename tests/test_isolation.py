"""A hang or an exit in one exercise costs that exercise only."""

from __future__ import annotations

import json
import time

import pytest
from conftest import SOLUTIONS, by_name, grade_json


def test_hang_in_ex03_and_exit_in_ex05_cost_only_those(submission) -> None:
    folder = submission(
        units=(1,),  # the first unit: the other six earn 60
        replace={
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
        },
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
    execute.START_SECONDS = 0.0  # max(0, 4 * 0): the start-up deadline has passed at once
    try:
        with execute.Sandbox(execute.Limits(timeout=0.0)) as box:
            sub = load_folder(SOLUTIONS, exercises)
            (result,) = grade([sub], exercises, Settings(seed=3, limits=limits), sandbox=box)
    finally:
        execute.START_SECONDS = saved
    (ex,) = result.exercises
    assert ex.status == "sandbox_error"
    assert ex.score == 0.0
    assert "not a mistake in your code" in ex.feedback.render()


def test_one_worker_grades_a_whole_submission() -> None:
    """One sandboxed process per submission, not per exercise (issue 11)."""
    from conftest import SOLUTIONS

    from grader import registry
    from grader.grading import Settings, grade
    from grader.runner.execute import Limits, Sandbox
    from grader.submission import load_folder

    exercises = registry.EXERCISES  # every unit: sixteen exercises, still one worker each
    with Sandbox(Limits()) as box:
        spawned: list[dict] = []
        real_spawn = box._zygote.spawn

        def counting_spawn(settings: dict):  # type: ignore[no-untyped-def]
            spawned.append(settings)
            return real_spawn(settings)

        box._zygote.spawn = counting_spawn  # type: ignore[method-assign]
        subs = [load_folder(SOLUTIONS, exercises, sid=f"s{i}") for i in range(3)]
        results = grade(subs, exercises, Settings(seed=4), sandbox=box)
    assert [r.score for r in results] == [sum(ex.points for ex in exercises)] * 3
    assert len(spawned) == 3


# Damage at import time that the undo after each call cannot reach, each of which
# would cost the learner's later exercises their points in a shared worker: the
# health check between exercises (grader/runner/health.py) sees it, so the other
# exercises are graded in fresh workers and keep full marks; the damaging file
# keeps whatever it earned. (Each fails here with the check switched off.)
DAMAGE = {
    "saved-tensor hooks that zero every saved tensor": (
        "import torch\n"
        "_hooks = torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 0)\n"
        "_hooks.__enter__()\n"
    ),
    "inference mode left on": "import torch\n_mode = torch.inference_mode()\n_mode.__enter__()\n",
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damage_the_undo_cannot_reach_costs_only_its_own_file(submission, damage: str) -> None:
    reference = (SOLUTIONS / "ex02_vector_grad.py").read_text()
    folder = submission({"ex02_vector_grad.py": DAMAGE[damage] + "\n" + reference})
    report = grade_json(str(folder), "--seed", "6")
    scores = {e["name"]: e["score"] for e in report["exercises"]}
    others = {name: score for name, score in scores.items() if name != "vector_grad"}
    assert others == {name: 10.0 for name in others}, (damage, scores)


def test_a_busy_machine_costs_correct_work_nothing() -> None:
    """Eight grade runs at once on this machine's few cores: starting each (imports,
    the sandbox) takes far longer than the time limit, which counts only learners'
    code, so every run keeps full marks (issue 9; tests/test_cuda.py runs 16 and 32
    at once on a GPU)."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from conftest import SOLUTIONS, grade_command

    def one(seed: int) -> tuple[float, float]:
        proc = subprocess.run(
            [grade_command(), str(SOLUTIONS), "--format", "json", "--timeout", "2",
             "--seed", str(seed)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-1000:]
        report = json.loads(proc.stdout)
        return report["score"], report["max_score"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(40, 48)))
    assert all(score == max_score > 0 for score, max_score in results), results
