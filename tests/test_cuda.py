"""Grading on a GPU. These run only where CUDA is available (scripts/gpu-check.sh);
every run goes through the installed ``grade`` command, a fresh process each time,
because a process that has initialised CUDA cannot fork CUDA workers."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from conftest import ALL_POINTS, EXERCISES, SOLUTIONS, grade_command, grade_json

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def by_name(report: dict) -> dict:
    return {e["name"]: e for e in report["exercises"]}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_solutions_score_full_on_cuda(seed: int) -> None:
    report = grade_json(str(SOLUTIONS), "--device", "cuda", "--seed", str(seed))
    assert report["device"] == "cuda"
    failing = {e["name"]: e["feedback"] for e in report["exercises"] if not e["passed"]}
    assert not failing
    assert report["score"] == report["max_score"] == ALL_POINTS  # every unit


def test_auto_picks_cuda_and_stubs_score_zero() -> None:
    report = grade_json(str(EXERCISES), "--device", "auto")
    assert report["device"] == "cuda"
    assert report["score"] == 0.0


def test_results_moved_to_the_cpu_fail_the_type_check(submission) -> None:
    folder = submission(
        {
            "ex02_vector_grad.py": """
                def vector_grad(f, x):
                    x = x.detach().requires_grad_(True)
                    f(x).sum().backward()
                    return x.grad.cpu()
            """,
            "ex03_partial_grads.py": """
                import torch
                def partial_grads(f, *xs):
                    xs = [x.detach().requires_grad_(True) for x in xs]
                    gs = torch.autograd.grad(f(*xs).sum(), xs, allow_unused=True)
                    return tuple(torch.zeros(x.shape, dtype=x.dtype) if g is None else g
                                 for x, g in zip(xs, gs))
            """,
        }
    )
    results = by_name(grade_json(str(folder), "--device", "cuda", "--seed", "5"))
    for name in ("vector_grad", "partial_grads"):
        checks = {c["name"]: c for c in results[name]["checks"]}
        assert checks["values"]["passed"], checks["values"]["feedback"]
        assert not checks["type"]["passed"]
        assert "cuda" in checks["type"]["feedback"] and "cpu" in checks["type"]["feedback"]
    assert all(results[n]["passed"] for n in results if n not in ("vector_grad", "partial_grads"))


def test_a_hang_on_cuda_costs_only_its_exercise(submission) -> None:
    hang = "def detach_alias(x):\n    while True:\n        pass\n"
    folder = submission({"ex08_detach.py": hang}, units=(1,))
    results = by_name(grade_json(str(folder), "--device", "cuda", "--timeout", "15"))
    assert "timed out" in results["detach_alias"]["feedback"]
    assert sum(e["score"] for e in results.values()) == 70.0  # unit 1's other seven


@pytest.mark.parametrize("runs", [16, 32])
def test_many_concurrent_runs_all_keep_full_marks(runs: int) -> None:
    """Correct work never loses points because the machine is busy: only the
    learner's code is timed, not imports or CUDA start-up under contention."""

    def one(seed: int) -> tuple[float, float, str]:
        started = time.monotonic()
        proc = subprocess.run(
            [grade_command(), str(SOLUTIONS), "--device", "cuda", "--format", "json",
             "--seed", str(seed)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        took = time.monotonic() - started
        if proc.returncode != 0:
            return 0.0, took, proc.stderr[-500:]
        report = json.loads(proc.stdout)
        lost = [e["feedback"][:200] for e in report["exercises"] if not e["passed"]]
        return report["score"], took, "; ".join(lost)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=runs) as pool:
        results = list(pool.map(one, range(100, 100 + runs)))
    wall = time.monotonic() - started
    slowest = max(took for _, took, _ in results)
    print(f"{runs} concurrent grade --device cuda: {wall:.1f} s in all, slowest {slowest:.1f} s")
    scores = [score for score, _, _ in results]
    assert scores == [ALL_POINTS] * runs, [r for r in results if r[0] != ALL_POINTS]


# unit 2: exercises 13-16
UNIT_2 = ("round_ste", "jacobian", "to_numpy", "save_weights")


def test_unit_2_mistakes_get_the_verdict_they_get_on_the_cpu(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Exercises 15 and 16 are about the GPU (``.numpy()`` and ``torch.save`` of CUDA
    tensors); on a CPU-only machine the device watch stands in for it. Every
    unit-2 variant of the mutation suite must fail exactly the checks it fails
    there (``tests/mistakes.py``), here with the hidden inputs on the GPU."""
    from mistakes import VARIANTS

    from grader import registry

    mine = {name: [v for v in VARIANTS if v.exercise == name] for name in UNIT_2}
    wrong = []
    for k in range(max(len(found) for found in mine.values())):
        folder = tmp_path / f"s{k}"
        folder.mkdir()
        graded = {}
        for name, found in mine.items():
            if k < len(found):
                (folder / registry.BY_NAME[name].file).write_text(found[k].source)
                graded[name] = found[k]
        only = [arg for name in graded for arg in ("--only", name)]
        report = by_name(grade_json(str(folder), "--device", "cuda", "--seed", "21", *only))
        for name, variant in graded.items():
            failed = {c["name"] for c in report[name]["checks"] if not c["passed"]}
            if failed != set(variant.fails):
                wrong.append((variant.id, sorted(failed), report[name]["feedback"][:300]))
    assert not wrong, wrong
