"""The self-check: registry, stubs, solutions and check modules agree; every stub
fails and every solution passes."""

from __future__ import annotations

import ast
import importlib

import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS, grade_folder

from grader import registry


def test_registry_is_ordered_and_unique() -> None:
    orders = [ex.order for ex in registry.EXERCISES]
    assert orders == sorted(orders) == list(range(1, len(orders) + 1))
    assert len({ex.name for ex in registry.EXERCISES}) == len(registry.EXERCISES)
    assert len({ex.file for ex in registry.EXERCISES}) == len(registry.EXERCISES)


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda ex: ex.name)
def test_each_exercise_has_stub_solution_and_checks(ex: registry.Exercise) -> None:
    for folder in (EXERCISES, SOLUTIONS, ROOT / "grader" / "checks"):
        assert (folder / ex.file).is_file(), f"{folder / ex.file} is missing"
    for folder in (EXERCISES, SOLUTIONS):
        tree = ast.parse((folder / ex.file).read_text())
        defs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert ex.name in defs, f"{folder / ex.file} does not define {ex.name}"
    checks = importlib.import_module(ex.check_module)
    assert callable(checks.draw_cases) and callable(checks.probe)
    tests = [name for name in dir(checks) if name.startswith("test_")]
    assert {"test_values", "test_type", "test_side_effects"} <= set(tests)


def test_no_stray_exercise_files() -> None:
    files = {ex.file for ex in registry.EXERCISES}
    for folder in (EXERCISES, SOLUTIONS):
        found = {p.name for p in folder.glob("ex*.py")}
        assert found == files, f"{folder}: {found ^ files}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_solution_passes(seed: int) -> None:
    result = grade_folder(SOLUTIONS, seed=seed)
    failing = {ex.name: ex.feedback.render() for ex in result.exercises if not ex.passed}
    assert not failing
    assert result.score == result.max_score == 80


def test_every_stub_fails_with_its_name() -> None:
    result = grade_folder(EXERCISES, seed=5)
    assert result.score == 0
    for ex in result.exercises:
        assert not ex.passed
        text = ex.feedback.render()
        assert "NotImplementedError" in text and ex.name in text
