"""The self-check: registry, stubs, solutions and check modules agree; every stub
fails and every solution passes."""

from __future__ import annotations

import ast
import importlib

import pytest
from conftest import ALL_POINTS, EXERCISES, ROOT, SOLUTIONS, grade_folder

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
    assert [ex.name for ex in result.exercises] == [ex.name for ex in registry.EXERCISES]
    assert result.score == result.max_score == ALL_POINTS == 160  # both units


def test_every_stub_fails_with_its_name() -> None:
    result = grade_folder(EXERCISES, seed=5)
    assert result.score == 0
    for ex in result.exercises:
        assert not ex.passed
        text = ex.feedback.render()
        assert "NotImplementedError" in text and ex.name in text


# --- units ---------------------------------------------------------------------------


def test_units_are_runs_of_the_registry_in_order() -> None:
    assert registry.units() == (1, 2)
    seen = [ex.unit for ex in registry.EXERCISES]
    assert seen == sorted(seen)  # a unit's exercises follow each other
    first = registry.select(units=(1,))
    assert [ex.order for ex in first] == list(range(1, 9))  # the tutorial's eight
    assert sum(ex.points for ex in first) == 80
    assert [ex.order for ex in registry.select(units=(2,))] == list(range(9, 17))


def test_select_takes_names_and_units() -> None:
    assert registry.select() == registry.EXERCISES
    assert [ex.name for ex in registry.select(("detach_alias", "hvp"))] == ["detach_alias", "hvp"]
    assert [ex.name for ex in registry.select(("hvp", "scalar_grad"), (2,))] == ["hvp"]
    assert registry.select(("scalar_grad",), (2,)) == ()
    assert registry.select(units=(1, 2)) == registry.EXERCISES
    with pytest.raises(KeyError, match="nope"):
        registry.select(("nope",))
    with pytest.raises(ValueError, match="unit 3"):
        registry.select(units=(3,))


def test_a_submission_is_graded_on_each_unit_it_holds_an_exercise_of() -> None:
    def graded(present: list[str], **kw: object) -> list[int]:
        return sorted({ex.unit for ex in registry.to_grade(present, **kw)})  # type: ignore[arg-type]

    assert graded([]) == [1]  # nothing found: the first unit, as before there were units
    assert graded(["detach_alias"]) == [1]
    assert graded(["save_weights"]) == [2]
    assert graded(["detach_alias", "save_weights"]) == [1, 2]
    assert graded(["not_an_exercise"]) == [1]
    assert len(registry.to_grade(["hvp"])) == 8  # the whole unit: a missing file costs its points
    assert graded(["detach_alias"], units=(2,)) == [2]  # --unit overrides what was found
    assert [ex.name for ex in registry.to_grade(["hvp"], names=("scalar_grad",))] == ["scalar_grad"]
