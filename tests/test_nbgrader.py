"""The nbgrader round trip with the real nbgrader CLI on a real course directory:
generate -> generate_assignment -> learners fill in -> collect -> validate ->
out-of-kernel autograde -> generate_feedback -> export."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from conftest import SOLUTIONS, UNIT1, UNIT2, run_grade, unsafe_chars
from nbgrader.api import Gradebook

from grader import registry
from grader.classroom.kernel import check
from grader.classroom.nbgrader_autograde import (
    CourseError,
    assignment_exercises,
    autograde_course,
)
from grader.classroom.nbgrader_source import write_source_assignment
from grader.grading import Settings
from grader.messages import text

ASSIGNMENT = "autograd"  # the default assignment: the first unit, as before units
NOTEBOOK = "autograd.ipynb"
PATCH = (
    "def scalar_grad(f, x):\n"
    "    raise NotImplementedError()\n"
    "\n"
    "# Make every in-kernel check report full marks.\n"
    "import grader.classroom.kernel as _kernel\n"
    "_kernel.check = lambda name, fn, **kw: 10.0\n"
)
WRONG = {
    "scalar_grad": "def scalar_grad(f, x):\n    return f(x)  # the value, not the derivative\n",
    "accumulated_grad": (
        "def accumulated_grad(f, x, times):\n"
        "    x.grad = None  # drops the gradient x already held\n"
        "    for _ in range(times):\n"
        "        f(x).sum().backward()\n"
        "    return x.grad\n"
    ),
}


def nbgrader_env(course: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_RUNTIME_DIR"] = str(course / ".runtime")
    return env


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """The real nbgrader command line, run in the course directory."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=nbgrader_env(course),
        capture_output=True,
        text=True,
        timeout=300,
    )


def fill_in(released: dict, answers: dict[str, str]) -> dict:
    """What a learner saves: the released notebook with some solution cells written."""
    notebook = json.loads(json.dumps(released))
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def collect(course: Path, student: str, notebook: dict, assignment: str = ASSIGNMENT) -> None:
    """What ``nbgrader collect`` leaves: submitted/STUDENT/ASSIGNMENT/ with a timestamp."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(notebook))
    (folder / "timestamp.txt").write_text("2025-03-01 09:00:00.000000 UTC")


def gradebook_scores(course: Path) -> dict[str, dict[str, float]]:
    """student -> test cell -> auto score, read through nbgrader's API."""
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in ("alice", "bob", "mallory", "carol"):
            nb = gb.find_submission_notebook("autograd", ASSIGNMENT, student)
            scores[student] = {g.name: g.auto_score for g in nb.grades}
    return scores


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with the assignment released and four learners' submissions collected."""
    course = tmp_path_factory.mktemp("course")
    proc = run_grade("nbgrader", "generate", str(course))
    assert proc.returncode == 0, proc.stderr
    proc = nbgrader(course, "generate_assignment", ASSIGNMENT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    released = json.loads((course / "release" / ASSIGNMENT / NOTEBOOK).read_text())
    reference = {ex.name: (SOLUTIONS / ex.file).read_text() for ex in registry.EXERCISES}
    collect(course, "alice", fill_in(released, reference))
    collect(course, "bob", fill_in(released, {**reference, **WRONG}))
    collect(course, "mallory", fill_in(released, {**reference, "scalar_grad": PATCH}))
    collect(course, "carol", released)  # handed in untouched
    return course


def test_the_source_notebook_teaches_and_tests_every_exercise(course: Path) -> None:
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    nbformat.validate(source)
    tests = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.grade_id for c in tests] == [f"test_{ex.name}" for ex in UNIT1]
    assert [c.metadata.nbgrader.points for c in tests] == [ex.points for ex in UNIT1]
    for ex in UNIT1:
        (solution,) = [c for c in source.cells if c.metadata.nbgrader.get("grade_id") == ex.name]
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert solution.source.startswith(f"def {ex.name}(")
    text = "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    assert "练习 3 · 偏导数" in text and "Exercise 3 · Partial derivatives" in text

    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    stubs = [c.source for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == len(UNIT1)
    assert all("raise NotImplementedError()" in s and "BEGIN SOLUTION" not in s for s in stubs)
    assert not any("x.detach().requires_grad_(True)" in s for s in stubs)


def test_generate_refuses_to_overwrite_without_force(course: Path) -> None:
    proc = run_grade("nbgrader", "generate", str(course))
    assert proc.returncode == 2
    assert "--force" in proc.stderr and "Traceback" not in proc.stderr


def test_in_kernel_test_cells_pass_a_correct_notebook_and_are_fooled_by_a_patch(
    course: Path,
) -> None:
    # Two kernels at once: validate alice's notebook while nbgrader autogrades mallory's.
    validate = subprocess.Popen(
        [sys.executable, "-m", "nbgrader", "validate", f"submitted/alice/{ASSIGNMENT}/{NOTEBOOK}"],
        cwd=course,
        env=nbgrader_env(course),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc = nbgrader(course, "autograde", ASSIGNMENT, "--student", "mallory")
    said, _ = validate.communicate(timeout=300)
    assert "Success! Your notebook passes all the tests." in said, said
    # nbgrader's own autograde runs the notebook in a kernel, where the patched
    # checker earns full marks: in-kernel test cells are feedback, not proof.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(ASSIGNMENT, "mallory").score == 80


def test_out_of_kernel_grades_reach_nbgrader_feedback_and_export(course: Path) -> None:
    # The out-of-kernel grader is not fooled.
    proc = run_grade("nbgrader", "autograde", str(course), "--seed", "5", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    scores = gradebook_scores(course)
    full = {f"test_{ex.name}": ex.points for ex in UNIT1}
    assert scores["alice"] == full
    assert scores["mallory"] == {**full, "test_scalar_grad": 0}
    assert scores["carol"] == {name: 0 for name in full}
    wrong = {f"test_{name}" for name in WRONG}
    assert all(scores["bob"][name] < 10 for name in wrong)
    assert all(scores["bob"][name] == 10 for name in full if name not in wrong)

    proc = nbgrader(course, "generate_feedback", ASSIGNMENT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (course / "feedback" / "mallory" / ASSIGNMENT / "autograd.html").read_text()
    head = text("nbgrader.graded_outside", "en", seed=5, score=0, max_score=10)
    said = text("raised.not_implemented", "en", name="scalar_grad", file="ex01_scalar_grad.py")
    assert head in page and said in page

    proc = nbgrader(course, "export")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(course / "grades.csv", newline="") as fh:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    assert exported == {
        "alice": 80.0,
        "mallory": 70.0,
        "carol": 0.0,
        "bob": sum(scores["bob"].values()),
    }
    assert exported["bob"] < 80


def test_the_second_unit_is_a_second_assignment(tmp_path: Path) -> None:
    """``--unit 2`` writes autograd2 beside autograd and grades it; the real nbgrader
    releases it and records the out-of-kernel grades."""
    course = tmp_path / "course"
    assert run_grade("nbgrader", "generate", str(course)).returncode == 0
    proc = run_grade("nbgrader", "generate", str(course), "--unit", "2")
    assert proc.returncode == 0, proc.stderr
    assert "nbgrader generate_assignment autograd2" in proc.stdout
    first = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    second = nbformat.read(course / "source" / "autograd2" / NOTEBOOK, as_version=4)
    nbformat.validate(second)

    def tested(notebook: nbformat.NotebookNode) -> list[str]:
        return [c.metadata.nbgrader.grade_id for c in notebook.cells if c.metadata.nbgrader.grade]

    assert tested(first) == [f"test_{ex.name}" for ex in UNIT1]
    assert tested(second) == [f"test_{ex.name}" for ex in UNIT2]
    proc = nbgrader(course, "generate_assignment", "autograd2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    released = json.loads((course / "release" / "autograd2" / NOTEBOOK).read_text())
    reference = {ex.name: (SOLUTIONS / ex.file).read_text() for ex in UNIT2}
    collect(course, "alice", fill_in(released, reference), "autograd2")
    collect(course, "carol", released, "autograd2")

    proc = run_grade("nbgrader", "autograde", str(course), "--unit", "2", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("autograd2", "alice").score == 80
        assert gb.find_submission("autograd2", "carol").score == 0
        scored = gb.find_submission_notebook("autograd", "autograd2", "alice")
        assert {g.name: g.auto_score for g in scored.grades} == {
            f"test_{ex.name}": ex.points for ex in UNIT2
        }
    mismatch = run_grade(
        "nbgrader", "autograde", str(course), "--unit", "1", "--assignment", "autograd2"
    )
    assert mismatch.returncode == 2 and "no test cells of unit 1" in mismatch.stderr


def test_autograde_unit_refuses_an_assignment_with_other_units() -> None:
    cells = {"autograd": {"test_scalar_grad", "test_hvp"}}
    with pytest.raises(CourseError, match="outside --unit"):
        assignment_exercises("autograd", cells, (2,))
    assert [ex.name for ex in assignment_exercises("autograd", cells)] == ["scalar_grad", "hvp"]
    assert [ex.name for ex in assignment_exercises("a", {"nb": {"test_hvp"}}, (2,))] == ["hvp"]


def test_a_submission_nbgrader_cannot_read_is_reported_not_recorded(course: Path) -> None:
    folder = course / "submitted" / "dave" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text("{ this is not a notebook")
    report = autograde_course(
        course_dir=course, assignment=ASSIGNMENT, settings=Settings(seed=5), students=("dave",)
    )
    assert [student for student, _ in report.failed] == ["dave"]
    assert report.grades == []


def test_autograde_without_a_gradebook_says_what_to_run_first(tmp_path: Path) -> None:
    with pytest.raises(CourseError, match="run nbgrader generate_assignment autograd"):
        autograde_course(course_dir=tmp_path, assignment=ASSIGNMENT, settings=Settings())


def test_the_in_kernel_check_writes_nothing_to_stderr_and_gives_partial_credit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def accumulated_grad(f, x, times):  # type: ignore[no-untyped-def]
        warnings.warn("a warning from the learner's code", stacklevel=1)
        print("the learner printed this to stderr", file=sys.stderr)
        for _ in range(times):  # right values, but x.grad keeps a graph: a side-effect slip
            f(x).sum().backward(create_graph=True)
        return x.grad

    score = check("accumulated_grad", accumulated_grad, lang="en")
    said = capsys.readouterr()
    assert said.err == ""
    assert 0 < score < 10
    assert "a warning from the learner's code" in said.out
    assert "the learner printed this to stderr" in said.out
    assert text("kernel.feedback_only", "en") in said.out


def test_generate_takes_an_assignment_name_and_a_subset(tmp_path: Path) -> None:
    exercises = registry.select(("scalar_grad", "detach_alias"))
    path = write_source_assignment(
        course_dir=tmp_path, assignment="week-3", exercises=exercises, force=False
    )
    assert path == tmp_path / "source" / "week-3" / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    tests = [c.metadata.nbgrader.grade_id for c in notebook.cells if c.metadata.nbgrader.grade]
    assert tests == ["test_scalar_grad", "test_detach_alias"]
    proc = run_grade("nbgrader", "generate", str(tmp_path), "--assignment", "../escape")
    assert proc.returncode == 2 and "--assignment" in proc.stderr
    assert not (tmp_path.parent / "escape").exists()


def test_a_learners_hostile_text_reaches_nbgrader_feedback_escaped(course: Path) -> None:
    """A learner whose ``scalar_grad`` raises an exception made of terminal control
    sequences, a lone surrogate and NUL: the test cell's output in autograded/ and
    nbgrader's feedback page show it cleaned and escaped (issue 9)."""
    hostile = (
        "def scalar_grad(f, x):\n"
        '    raise ValueError("\\x1b[2J\\x1b[H\\r✓ 80/80 " + chr(0xD800) + chr(0) + "end")\n'
    )
    released = json.loads((course / "release" / ASSIGNMENT / NOTEBOOK).read_text())
    reference = {ex.name: (SOLUTIONS / ex.file).read_text() for ex in registry.EXERCISES}
    collect(course, "eve", fill_in(released, {**reference, "scalar_grad": hostile}))
    report = autograde_course(
        course_dir=course, assignment=ASSIGNMENT, settings=Settings(seed=5), students=("eve",)
    )
    assert report.failed == [] and [g.score for g in report.grades] == [70]
    graded = nbformat.read(course / "autograded" / "eve" / ASSIGNMENT / NOTEBOOK, as_version=4)
    (cell,) = [
        c
        for c in graded.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_scalar_grad"
    ]
    said = "".join(o.get("text", "") for o in cell.outputs)
    assert "\\x1b[2J\\x1b[H\\r✓ 80/80 \ufffdend" in said, said
    assert not unsafe_chars(said), unsafe_chars(said)

    proc = nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", "eve")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (course / "feedback" / "eve" / ASSIGNMENT / "autograd.html").read_text()
    assert "\\x1b[2J\\x1b[H\\r✓ 80/80 \ufffdend" in page
    assert "\x1b" not in page and "\x00" not in page
