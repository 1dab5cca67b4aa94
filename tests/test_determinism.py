"""Hidden inputs: reproducible with a seed, different without one, drawn from a wide
space; and the reference solutions keep full marks whatever is drawn.

``bench/seeds.py`` runs the same reference check on 1,000 seeds; CI runs 20.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from conftest import SOLUTIONS

from grader import registry
from grader.cases import Case
from grader.grading import Settings, draw_cases, grade, new_seed
from grader.runner.execute import Limits, Sandbox
from grader.submission import load_folder

CI_SEEDS = range(100, 120)  # 20 seeds


def _same(a: list[Case], b: list[Case]) -> bool:
    if [c.meta for c in a] != [c.meta for c in b]:
        return False
    for x, y in zip(a, b, strict=True):
        if x.tensors.keys() != y.tensors.keys():
            return False
        for name, t in x.tensors.items():
            u = y.tensors[name]
            if t.dtype != u.dtype or t.shape != u.shape or not torch.equal(t, u):
                return False
    return True


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda ex: ex.name)
def test_a_seed_reproduces_the_inputs_and_another_changes_them(ex: registry.Exercise) -> None:
    assert _same(draw_cases(ex, 1234, "cpu"), draw_cases(ex, 1234, "cpu"))
    assert not _same(draw_cases(ex, 1234, "cpu"), draw_cases(ex, 1235, "cpu"))


def test_without_a_seed_every_run_draws_new_inputs() -> None:
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    ex = registry.EXERCISES[1]
    a, b = sorted(seeds)[:2]
    assert not _same(draw_cases(ex, a, "cpu"), draw_cases(ex, b, "cpu"))


def _dtype(case: Case) -> torch.dtype:
    return next(iter(case.tensors.values())).dtype


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda ex: ex.name)
def test_every_run_tests_both_dtypes(ex: registry.Exercise) -> None:
    for seed in CI_SEEDS:
        dtypes = {_dtype(c) for c in draw_cases(ex, seed, "cpu")}
        assert dtypes == {torch.float32, torch.float64}, (ex.name, seed)


def test_values_inside_each_kind_vary_widely() -> None:
    """Kinds are fixed (tests/test_coverage.py); within them the seed picks from many
    functions and from 0-d to 3-d shapes."""
    dims: Counter[int] = Counter()
    functions: set[str] = set()
    for ex in registry.EXERCISES:
        for seed in CI_SEEDS:
            for case in draw_cases(ex, seed, "cpu"):
                x = next(iter(case.tensors.values()))
                dims[x.dim()] += 1
                for key in ("f", "fs"):
                    value = case.meta.get(key)
                    functions.update([value] if isinstance(value, str) else value or [])
    assert set(dims) == {0, 1, 2, 3}
    assert len(functions) >= 20


FULL_NO_GRAD_UNIT_2 = ("round_ste", "to_numpy", "save_weights")  # unit 2: exercises 13-16


def test_grad_mode_only_cases_are_copies_called_under_no_grad() -> None:
    for ex in registry.EXERCISES:
        cases = draw_cases(ex, 5, "cpu")
        only = [c for c in cases if c.meta.get("grad_mode_only")]
        # these check every case in full, under no_grad too (their contracts say what
        # happens there)
        if ex.name in ("evaluate_without_grad", "detach_alias", *FULL_NO_GRAD_UNIT_2):
            assert not only  # there every case is checked in full, no_grad included
            assert any(c.meta.get("grad_mode") is False for c in cases)
            continue
        (copy,) = only
        assert copy.meta["grad_mode"] is False
        assert any(_same([copy], [_as_checked(c)]) for c in cases if c is not copy)


def _as_checked(case: Case) -> Case:
    meta = {**case.meta, "grad_mode": False, "grad_mode_only": True}
    return Case(case.tensors, meta)


def test_reference_solutions_keep_full_marks_on_20_seeds() -> None:
    exercises = registry.EXERCISES
    sub = load_folder(SOLUTIONS, exercises)
    lost = []
    # one sandbox for all seeds: no overall budget across them (each seed is one run)
    with Sandbox(Limits(timeout=20.0, total=1e9)) as box:
        for seed in CI_SEEDS:
            (result,) = grade([sub], exercises, Settings(seed=seed), sandbox=box)
            for ex in result.exercises:
                lost += [
                    (seed, ex.name, c.name, c.feedback.render() if c.feedback else "")
                    for c in ex.checks
                    if not c.passed
                ]
            assert result.score == result.max_score or lost, seed
    assert lost == []


def test_the_same_wrong_submission_gets_the_same_feedback_twice() -> None:
    exercises = registry.select(("scalar_grad", "fresh_grads"))
    wrong = load_folder(SOLUTIONS, exercises)
    wrong.sources["ex01_scalar_grad.py"].text = "def scalar_grad(f, x):\n    return 2 * x + 2\n"
    wrong.sources["ex06_zero_grad.py"].text = (
        "def fresh_grads(fs, x):\n"
        "    out = []\n"
        "    for f in fs:\n"
        "        f(x).sum().backward()\n"
        "        out.append(x.grad.clone())\n"
        "    return out\n"
    )

    def said() -> list[tuple[str, float, str]]:
        (result,) = grade([wrong], exercises, Settings(seed=99))
        return [
            (f"{ex.name}.{c.name}", c.score, c.feedback.render() if c.feedback else "")
            for ex in result.exercises
            for c in ex.checks
        ]

    first = said()
    assert first == said()
    assert any("2*x + 2" in text for _, _, text in first)
