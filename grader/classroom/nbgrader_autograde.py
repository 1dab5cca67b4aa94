"""Grade an nbgrader course out of kernel and record the grades in its gradebook.

``nbgrader autograde`` runs every submitted notebook in a kernel and scores the
test cells' outputs, so a submission that patches the checker in its own
kernel earns whatever it likes. Here the kernel is never started:

1. Every ``submitted/STUDENT/ASSIGNMENT/<notebook>.ipynb`` is read into
   per-exercise sources (``grader.submission.notebook``) and all of them are
   graded in one ``grader.grading.grade`` call: learners' code runs only in the
   sandbox, checks run here, one pytest session for the whole class.
2. nbgrader's own ``Autograde`` converter then runs as usual (student records,
   timestamps and late penalties, restoring locked and test cells from the
   gradebook, the ``autograded/`` copy, ``SaveAutoGrades``), with one change:
   its kernel-executing step is replaced by ``OutOfKernelGrades``, which writes
   the sandboxed result into each test cell (feedback on stdout, the points as
   the cell's value, nbgrader's partial-credit convention). A test cell of an
   exercise this grader does not know gets an error output, so 0 points.
3. The gradebook is read back through ``nbgrader.api.Gradebook`` and every
   score compared with the grader's; a disagreement is an error.

``nbgrader generate_feedback`` and ``nbgrader export`` then work as usual.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters.autograde import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata, Execute, NbGraderPreprocessor
from sqlalchemy.exc import SAWarning
from traitlets import Dict, Unicode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from grader import registry
from grader.classroom.nbgrader_source import exercise_of_cell, test_cell_id
from grader.grading import Progress, Settings, grade
from grader.messages import text
from grader.registry import Exercise
from grader.report.text import exercise_line
from grader.results import ExerciseResult
from grader.submission.notebook import load_notebook

SCORE_TOLERANCE = 1e-6


class CourseError(Exception):
    """The course directory cannot be graded as asked (the message says why)."""


class RecordError(Exception):
    """nbgrader could not record some grades, or recorded other scores than the grader's."""


@dataclass
class NotebookGrade:
    student: str
    notebook: str
    score: float  # as recorded in the gradebook
    max_score: float


@dataclass
class AutogradeReport:
    assignment: str
    grades: list[NotebookGrade] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (student, why) nbgrader refused
    seed: int = 0
    grading_seconds: float = 0.0
    gradebook_seconds: float = 0.0


class OutOfKernelGrades(NbGraderPreprocessor):
    """Puts the sandboxed grader's verdicts into the test cells, instead of running them."""

    grades = Dict(
        help="'STUDENT/NOTEBOOK' -> grade_id -> {'fraction': earned / points, 'text': feedback}"
    ).tag(config=True)
    not_graded = Unicode(help="Feedback for a test cell this grader does not know").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        info = resources["nbgrader"]
        mine = self.grades.get(f"{info['student']}/{info['notebook']}", {})
        for cell in nb.cells:
            if cell.cell_type == "code" and nbutils.is_grade(cell):
                verdict = mine.get(cell.metadata["nbgrader"]["grade_id"])
                cell.outputs = self._outputs(cell, verdict)
        return nb, resources

    def _outputs(self, cell: Any, verdict: dict[str, Any] | None) -> list[Any]:
        if verdict is None:
            return [
                nbformat.v4.new_output(
                    "error", ename="NotGraded", evalue=self.not_graded, traceback=[self.not_graded]
                )
            ]
        points = float(cell.metadata["nbgrader"]["points"])
        earned = round(points * float(verdict["fraction"]), 6)
        return [
            nbformat.v4.new_output("stream", name="stdout", text=str(verdict["text"])),
            nbformat.v4.new_output(
                "execute_result", data={"text/plain": f"{earned:g}"}, execution_count=None
            ),
        ]


def autograde_course(
    *,
    course_dir: Path,
    assignment: str,
    settings: Settings,
    students: tuple[str, ...] = (),
    units: tuple[int, ...] = (),
    lang: str = "en",
    on_progress: Progress | None = None,
) -> AutogradeReport:
    """Grade every submission of ``assignment`` out of kernel into the gradebook: the
    exercises its notebooks have test cells for, of ``units`` when given."""
    config = course_config(course_dir)
    coursedir = CourseDirectory(config=config)
    with _tools_on_path():
        notebooks = _assignment_notebooks(coursedir, assignment)
    exercises = assignment_exercises(assignment, notebooks, units)
    folders, found = find_submissions(coursedir, assignment, list(notebooks), students)
    if not folders:
        where = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
        raise CourseError(f"no submissions in {where}")

    started = time.monotonic()
    submissions = [
        load_notebook(path, exercises, sid=f"{student}/{notebook}", root=path.parent.resolve())
        for student, notebook, path in found
    ]
    results = grade(submissions, exercises, settings, on_progress=on_progress)
    report = AutogradeReport(assignment, seed=results[0].seed if results else 0)
    report.grading_seconds = time.monotonic() - started

    started = time.monotonic()
    grades = {
        result.submission: {
            test_cell_id(ex): {
                "fraction": _fraction(ex),
                "text": feedback_text(ex, result.seed, lang),
            }
            for ex in result.exercises
        }
        for result in results
    }
    config.OutOfKernelGrades.grades = grades
    config.OutOfKernelGrades.not_graded = text("nbgrader.not_ours", lang)
    config.Autograde.autograde_preprocessors = autograde_steps()
    with _tools_on_path():
        report.failed = _run_nbgrader_autograde(config, assignment, folders)
        refused = {student for student, _ in report.failed}
        recorded = {key: v for key, v in grades.items() if key.split("/", 1)[0] not in refused}
        report.grades = _check_gradebook(coursedir, assignment, recorded, exercises)
    report.gradebook_seconds = time.monotonic() - started
    return report


def assignment_exercises(
    assignment: str, notebooks: dict[str, set[str]], units: tuple[int, ...] = ()
) -> tuple[Exercise, ...]:
    """The exercises with a test cell in the assignment's notebooks, all of them of
    ``units`` when given: a test cell of another unit would record 0 points, so an
    assignment holding one is refused rather than graded in part."""
    tested = tuple(
        ex
        for ex in registry.EXERCISES
        if any(test_cell_id(ex) in cells for cells in notebooks.values())
    )
    if not tested:
        raise CourseError(f"assignment {assignment} has no test cells of this grader's exercises")
    if units:
        outside = [ex.name for ex in tested if ex.unit not in units]
        if len(outside) == len(tested):
            shown = ", ".join(str(u) for u in units)
            raise CourseError(f"assignment {assignment} has no test cells of unit {shown}")
        if outside:
            raise CourseError(
                f"assignment {assignment} also tests {', '.join(outside[:3])}"
                f"{', ...' if len(outside) > 3 else ''}, outside --unit: "
                "leave out --unit to grade every exercise it tests"
            )
    return tested


def autograde_steps() -> list[type]:
    """nbgrader's autograde preprocessors with the kernel run replaced by ours.

    The second ``CheckCellMetadata`` is left out: the sanitizing pass has just
    validated the same metadata, and only outputs change in between.
    """
    steps = [
        OutOfKernelGrades if pp is Execute else pp
        for pp in Autograde.autograde_preprocessors.default()
    ]
    if steps.count(OutOfKernelGrades) != 1:
        raise RecordError("this nbgrader version has no Execute step to replace")
    return [pp for pp in steps if pp is not CheckCellMetadata]


def course_config(course_dir: Path) -> Config:
    """The course's ``nbgrader_config.py`` (if any), rooted at ``course_dir``."""
    config = Config()
    file = course_dir / "nbgrader_config.py"
    if file.is_file():
        config.merge(PyFileConfigLoader(file.name, path=str(course_dir)).load_config())
    config.CourseDirectory.root = str(course_dir.resolve())
    return config


def find_submissions(
    coursedir: CourseDirectory, assignment: str, notebooks: list[str], students: tuple[str, ...]
) -> tuple[list[str], list[tuple[str, str, Path]]]:
    """The students who submitted ``assignment``, and (student, notebook, path) of each
    submitted notebook the gradebook knows."""
    root = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
    folders, found = [], []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        student = folder.name
        if student.startswith(".") or (students and student not in students):
            continue
        here = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        if not here.is_dir():
            continue
        folders.append(student)
        for notebook in notebooks:
            path = here / f"{notebook}.ipynb"
            if path.is_file():
                found.append((student, notebook, path))
    return folders, found


def feedback_text(ex: ExerciseResult, seed: int, lang: str) -> str:
    head = text(
        "nbgrader.graded_outside",
        lang,
        seed=seed,
        score=f"{ex.score:g}",
        max_score=f"{ex.max_score:g}",
    )
    return f"{head}\n{exercise_line(ex, lang, color=False)}\n"


def _fraction(ex: ExerciseResult) -> float:
    return ex.score / ex.max_score if ex.max_score else 0.0


def _assignment_notebooks(coursedir: CourseDirectory, assignment: str) -> dict[str, set[str]]:
    """Notebook name -> grade ids of its code test cells, from the gradebook."""
    db = coursedir.db_url
    if db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).is_file():
        raise CourseError(f"no gradebook at {db}: run nbgrader generate_assignment {assignment}")
    with Gradebook(db, coursedir.course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise CourseError(
                f"the gradebook has no assignment {assignment}: "
                f"run nbgrader generate_assignment {assignment}"
            ) from None
        return {
            nb.name: {cell.name for cell in nb.grade_cells if cell.cell_type == "code"}
            for nb in found.notebooks
        }


def _run_nbgrader_autograde(
    config: Config, assignment: str, students: list[str]
) -> list[tuple[str, str]]:
    """nbgrader's autograde step for each student; returns (student, why) of failures."""
    api = NbGraderAPI(config=config)
    failed = []
    for student in students:
        with warnings.catch_warnings():
            # nbgrader 0.9 trips SQLAlchemy 2's autoflush warnings; the records are right.
            warnings.simplefilter("ignore", SAWarning)
            outcome = api.autograde(assignment, student, force=True, create=True)
        if not outcome.get("success"):
            log = str(outcome.get("log") or "").splitlines()
            errors = [line.removeprefix("[ERROR] ") for line in log if line.startswith("[ERROR]")]
            failed.append((student, errors[0] if errors else "nbgrader autograde failed"))
    return failed


def _check_gradebook(
    coursedir: CourseDirectory,
    assignment: str,
    grades: dict[str, dict[str, dict[str, Any]]],
    exercises: tuple[Exercise, ...],
) -> list[NotebookGrade]:
    """Read every recorded score back; any disagreement with the grader is an error."""
    out = []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for key, verdicts in grades.items():
            student, notebook = key.split("/", 1)
            recorded = gb.find_submission_notebook(notebook, assignment, student)
            for cell in recorded.grades:
                ex = exercise_of_cell(cell.name, exercises)
                if cell.cell_type != "code" or ex is None:
                    continue
                expected = cell.max_score * verdicts[cell.name]["fraction"]
                if cell.auto_score is None or abs(cell.auto_score - expected) > SCORE_TOLERANCE:
                    raise RecordError(
                        f"the gradebook holds {cell.auto_score} for {student} {cell.name}, "
                        f"the grader gave {expected:g}"
                    )
            out.append(NotebookGrade(student, notebook, recorded.score, recorded.max_score))
    return out


@contextlib.contextmanager
def _tools_on_path() -> Iterator[None]:
    """nbgrader runs ``alembic`` by name: find it beside this Python even when the
    environment is not activated."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved])
    try:
        yield
    finally:
        os.environ["PATH"] = saved
