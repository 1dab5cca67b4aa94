"""Units through the installed ``grade`` command: a submission is graded on every
unit it holds an exercise of (a file of the folder layout, a function of a
notebook), the first unit when it holds none, or what ``--unit``/``--only`` ask."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import (
    ALL_POINTS,
    EXERCISES,
    SOLUTIONS,
    UNIT1,
    UNIT2,
    copy_units,
    grade_json,
    run_grade,
)

from grader import registry

UNIT1_NAMES = [ex.name for ex in UNIT1]
UNIT2_NAMES = [ex.name for ex in UNIT2]
ALL_NAMES = [ex.name for ex in registry.EXERCISES]


def names(report: dict) -> list[str]:
    return [e["name"] for e in report["exercises"]]


def test_a_folder_of_the_first_units_files_grades_exactly_as_before(tmp_path: Path) -> None:
    """80 points and the JSON of the eight exercises graded by name, which is what
    ``grade`` graded before there were units."""
    folder = copy_units(SOLUTIONS, tmp_path / "unit1", (1,))
    report = grade_json(str(folder), "--seed", "5")
    assert names(report) == UNIT1_NAMES
    assert report["score"] == report["max_score"] == 80.0
    by_name = [arg for name in UNIT1_NAMES for arg in ("--only", name)]
    assert report == grade_json(str(folder), "--seed", "5", *by_name)
    stubs = copy_units(EXERCISES, tmp_path / "stubs", (1,))
    proc = run_grade(str(stubs), "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert "Total: 0/80" in proc.stdout
    assert not any(name in proc.stdout for name in UNIT2_NAMES)


def test_a_folder_of_the_second_units_files_grades_the_second_unit(tmp_path: Path) -> None:
    folder = copy_units(SOLUTIONS, tmp_path / "unit2", (2,))
    report = grade_json(str(folder), "--seed", "5")
    assert names(report) == UNIT2_NAMES
    assert report["score"] == report["max_score"] == 80.0


def test_a_folder_with_files_of_both_units_grades_both(tmp_path: Path) -> None:
    folder = copy_units(SOLUTIONS, tmp_path / "both", (1,))
    shutil.copy(SOLUTIONS / "ex10_higher_order.py", folder)
    report = grade_json(str(folder), "--seed", "5")
    assert names(report) == ALL_NAMES
    assert report["max_score"] == ALL_POINTS
    assert report["score"] == 90.0  # unit 1 and hvp; unit 2's other files are missing
    missing = {e["name"] for e in report["exercises"] if e["status"] == "missing_file"}
    assert missing == set(UNIT2_NAMES) - {"hvp"}


def test_grading_the_solutions_grades_all_sixteen() -> None:
    report = grade_json(str(SOLUTIONS), "--seed", "5")
    assert len(report["exercises"]) == 16 and names(report) == ALL_NAMES
    assert report["score"] == report["max_score"] == 160.0


def test_unit_picks_the_units_graded() -> None:
    second = grade_json(str(SOLUTIONS), "--unit", "2", "--seed", "5")
    assert names(second) == UNIT2_NAMES and second["max_score"] == 80.0
    first = grade_json(str(SOLUTIONS), "--unit", "1", "--seed", "5")
    assert names(first) == UNIT1_NAMES and first["score"] == 80.0
    both = grade_json(str(SOLUTIONS), "--unit", "2", "--unit", "1", "--seed", "5")
    assert names(both) == ALL_NAMES
    within = grade_json(str(SOLUTIONS), "--unit", "2", "--only", "hvp", "--only", "scalar_grad")
    assert names(within) == ["hvp"]


def test_unit_of_a_folder_without_its_files_and_bad_units_are_usage_errors(
    tmp_path: Path,
) -> None:
    folder = copy_units(SOLUTIONS, tmp_path / "unit1", (1,))
    for args in (
        [str(folder), "--unit", "2"],  # none of unit 2's files
        [str(SOLUTIONS), "--unit", "3"],
        [str(SOLUTIONS), "--unit", "1", "--only", "hvp"],
    ):
        proc = run_grade(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    said = run_grade(str(SOLUTIONS), "--unit", "1", "--only", "hvp", "--lang", "zh").stderr
    assert said.startswith("错误：--only hvp 与 --unit 1"), said


def notebook(path: Path, files: list[str]) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": (SOLUTIONS / file).read_text()}
        for file in files
    ]  # fmt: skip
    doc = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_a_notebook_is_graded_on_the_units_its_functions_belong_to(tmp_path: Path) -> None:
    second = notebook(tmp_path / "a" / "work.ipynb", [ex.file for ex in UNIT2[:3]])
    report = grade_json(str(second), "--seed", "5")
    assert names(report) == UNIT2_NAMES and report["score"] == 30.0
    both = notebook(tmp_path / "b" / "work.ipynb", ["ex01_scalar_grad.py", "ex14_jacobian.py"])
    report = grade_json(str(both.parent), "--seed", "5")  # a folder holding one notebook
    assert names(report) == ALL_NAMES and report["score"] == 20.0
    broken = tmp_path / "c" / "work.ipynb"
    notebook(broken, [])
    doc = json.loads(broken.read_text())
    doc["cells"] = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "def jacobian(f, x)\n    return x\n"}]  # fmt: skip
    broken.write_text(json.dumps(doc))
    report = grade_json(str(broken), "--seed", "5")  # not valid Python, still unit 2's
    assert names(report) == UNIT2_NAMES
    assert "SyntaxError" in report["exercises"][UNIT2_NAMES.index("jacobian")]["feedback"]
    nothing = notebook(tmp_path / "d" / "work.ipynb", [])
    report = grade_json(str(nothing), "--seed", "5")
    assert names(report) == UNIT1_NAMES and report["max_score"] == 80.0


def test_junit_and_gradescope_follow_the_exercises_graded(tmp_path: Path) -> None:
    folder = copy_units(SOLUTIONS, tmp_path / "unit2", (2,))
    proc = run_grade(str(folder), "--format", "junit", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    suite = ET.fromstring(proc.stdout).find("testsuite")
    classes = [case.get("classname") for case in suite.iter("testcase")]
    assert list(dict.fromkeys(classes)) == UNIT2_NAMES
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["score"] == props["max_score"] == "80"
    proc = run_grade(str(SOLUTIONS), "--format", "gradescope", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["name"].split(":")[0] for t in doc["tests"]] == ALL_NAMES
    assert doc["score"] == sum(t["max_score"] for t in doc["tests"]) == 160.0
