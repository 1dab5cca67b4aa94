"""``grade batch``: a whole class in one run, where no submission can stop the rest."""

from __future__ import annotations

import csv
import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXERCISES, SOLUTIONS, UNIT1, UNIT2, copy_units, grade_command, run_grade

from grader import registry
from grader.classroom.batch import NOT_GRADED, Entry, discover, grade_batch, load_entry
from grader.classroom.chunk_process import ForkRunner
from grader.grading import Settings
from grader.report.json_report import as_dict
from grader.runner.execute import Limits

NAMES = [ex.name for ex in UNIT1]  # make_class is a class of the first unit
SPECIAL = {
    # a busy loop: its exercise times out, the other seven still count
    "hang": {"ex01_scalar_grad.py": "def scalar_grad(f, x):\n    while True:\n        pass\n"},
    # the process running it kills itself while the file is imported
    "killer": {
        "ex02_vector_grad.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    },
    # ends its own process instead of returning
    "exiter": {
        "ex04_no_grad.py": "import os\n\ndef evaluate_without_grad(f, x):\n    os._exit(3)\n"
    },
}


def make_class(folder: Path, *, correct: int = 3) -> Path:
    """A class of the first unit (the CSV of a class before there were units):
    correct copies, the stubs, the special ones above, an empty folder, a folder
    with a binary file, a notebook, and a stray file."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(correct):
        copy_units(SOLUTIONS, folder / f"ok{i}", (1,))
    copy_units(EXERCISES, folder / "stub", (1,))
    for name, files in SPECIAL.items():
        copy_units(SOLUTIONS, folder / name, (1,))
        for file, code in files.items():
            (folder / name / file).write_text(code)
    (folder / "empty").mkdir()
    copy_units(SOLUTIONS, folder / "binary", (1,))
    (folder / "binary" / "ex01_scalar_grad.py").write_bytes(b"\x00\x01\x02 not python")
    (folder / "README.txt").write_text("not a submission")
    write_notebook(folder / "nb_student.ipynb", UNIT1)
    return folder


def write_notebook(path: Path, exercises: tuple[registry.Exercise, ...]) -> Path:
    """A notebook holding the reference solutions of ``exercises``, one cell each."""
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": (SOLUTIONS / ex.file).read_text()}
        for ex in exercises
    ]  # fmt: skip
    doc = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc))
    return path


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return header, {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("batch")
    klass = make_class(root / "class")
    out = root / "grades"
    proc = run_grade(
        "batch", str(klass), "--out", str(out), "--timeout", "3", "--seed", "7",
        "--jobs", "2", "--chunk-size", "3", timeout=600,
    )  # fmt: skip
    return proc, klass, out


def test_batch_writes_one_row_per_learner(batch_run) -> None:
    proc, klass, out = batch_run
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out / "grades.csv")
    assert header == ["student", "total", "max_total", *NAMES, "note"]
    expected = {"ok0", "ok1", "ok2", "stub", "hang", "killer", "exiter", "empty", "binary"}
    expected.add("nb_student")
    assert set(rows) == expected  # README.txt is not a submission
    for name in ("ok0", "ok1", "ok2"):
        assert rows[name]["total"] == "80" and rows[name]["note"] == "", rows[name]
    assert rows["nb_student"]["total"] == "80", rows["nb_student"]
    assert rows["stub"]["total"] == "0" and rows["stub"]["note"] == ""
    assert all(rows[n]["max_total"] == "80" for n in rows)


def test_a_class_is_graded_on_every_unit_a_submission_holds(tmp_path: Path) -> None:
    """The CSV's columns are the units some submission holds; every learner is graded
    on all of them. ``--unit`` picks the columns instead."""
    klass = tmp_path / "class"
    copy_units(SOLUTIONS, klass / "first", (1,))
    copy_units(SOLUTIONS, klass / "both")
    write_notebook(klass / "nb_second.ipynb", UNIT2)
    (klass / "empty").mkdir()
    proc = run_grade("batch", str(klass), "--out", str(tmp_path / "all"), "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(tmp_path / "all" / "grades.csv")
    assert header == ["student", "total", "max_total", *(ex.name for ex in registry.EXERCISES)] + [
        "note"
    ]
    assert all(row["max_total"] == "160" for row in rows.values())
    assert [rows[n]["total"] for n in ("first", "both", "nb_second", "empty")] == [
        "80", "160", "80", "0",
    ]  # fmt: skip
    assert rows["first"]["hvp"] == "0" and rows["nb_second"]["hvp"] == "10"

    proc = run_grade("batch", str(klass), "--out", str(tmp_path / "u2"), "--unit", "2")
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(tmp_path / "u2" / "grades.csv")
    assert header == ["student", "total", "max_total", *(ex.name for ex in UNIT2), "note"]
    assert rows["both"]["total"] == rows["nb_second"]["total"] == rows["both"]["max_total"] == "80"
    assert rows["first"]["total"] == "0" and "none of the exercise files" in rows["first"]["note"]

    second = tmp_path / "second"  # a class of the second unit only: its eight columns
    copy_units(SOLUTIONS, second / "ada", (2,))
    write_notebook(second / "bob.ipynb", UNIT2[:2])
    proc = run_grade("batch", str(second), "--out", str(tmp_path / "second-out"), "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(tmp_path / "second-out" / "grades.csv")
    assert header[3:-1] == [ex.name for ex in UNIT2]
    assert (rows["ada"]["total"], rows["bob"]["total"]) == ("80", "20")
    report = json.loads((tmp_path / "second-out" / "reports" / "bob.json").read_text())
    assert [e["name"] for e in report["exercises"]] == [ex.name for ex in UNIT2]


def test_hangs_and_crashes_cost_only_their_exercise(batch_run) -> None:
    _, _, out = batch_run
    _, rows = read_csv(out / "grades.csv")
    lost = {"hang": "scalar_grad", "killer": "vector_grad", "exiter": "evaluate_without_grad"}
    lost["binary"] = "scalar_grad"
    for student, exercise in lost.items():
        row = rows[student]
        assert row[exercise] == "0", row
        assert all(row[n] == "10" for n in NAMES if n != exercise), row
        assert row["total"] == "70", row
    status = {
        student: {e["name"]: e["status"] for e in json.loads(
            (out / "reports" / f"{student}.json").read_text())["exercises"]}
        for student in lost
    }  # fmt: skip
    assert status["hang"]["scalar_grad"] == "timeout"
    assert status["killer"]["vector_grad"] == "crashed"
    assert status["exiter"]["evaluate_without_grad"] == "exited"
    assert status["binary"]["scalar_grad"] == "unreadable_file"


def test_a_folder_with_nothing_to_grade_gets_a_zero_and_a_note(batch_run) -> None:
    _, _, out = batch_run
    _, rows = read_csv(out / "grades.csv")
    assert rows["empty"]["total"] == "0"
    assert "none of the exercise files" in rows["empty"]["note"]
    report = json.loads((out / "reports" / "empty.json").read_text())
    assert {e["status"] for e in report["exercises"]} == {NOT_GRADED}
    assert all("none of the exercise files" in e["feedback"] for e in report["exercises"])


def test_reports_have_the_json_format_shape(batch_run, tmp_path: Path) -> None:
    from conftest import grade_folder

    _, klass, out = batch_run
    reference = as_dict(grade_folder(klass / "ok0", seed=7))
    for path in (out / "reports").glob("*.json"):
        report = json.loads(path.read_text())
        assert set(report) == set(reference), path.name
        assert [e["name"] for e in report["exercises"]] == NAMES
        assert set(report["exercises"][0]) == set(reference["exercises"][0])
    ok0 = json.loads((out / "reports" / "ok0.json").read_text())
    assert ok0["seed"] == 7 and ok0["score"] == reference["score"] == 80.0


def test_summary_counts_what_the_grades_say(batch_run) -> None:
    proc, _, out = batch_run
    _, rows = read_csv(out / "grades.csv")
    summary = json.loads((out / "summary.json").read_text())
    graded = [r for r in rows.values() if not r["note"]]
    assert summary["submissions"] == len(rows) and summary["graded"] == len(graded)
    assert set(summary["not_graded"]) == {"empty"}
    for stats in summary["exercises"]:
        name = stats["name"]
        passed = sum(1 for r in graded if r[name] == "10")
        assert stats["passed"] == passed
        assert stats["pass_rate"] == pytest.approx(passed / len(graded))
        assert stats["mean"] == pytest.approx(sum(float(r[name]) for r in graded) / len(graded))
    keys = {(d["exercise"], d["key"]): d["count"] for d in summary["diagnoses"]}
    assert keys[("scalar_grad", "outcome.timeout")] == 1
    assert keys[("vector_grad", "outcome.crashed")] == 1
    assert keys[("scalar_grad", "raised.not_implemented")] == 1
    slowest = summary["slowest"]
    assert len(slowest) == min(5, len(graded))
    assert {s["student"] for s in slowest} <= {r["student"] for r in graded}
    assert [s["seconds"] for s in slowest] == sorted((s["seconds"] for s in slowest), reverse=True)
    hang = [s for s in slowest if s["student"] == "hang"]
    assert not hang or hang[0]["seconds"] >= 3.0  # its busy loop ran to the 3 s timeout
    assert "Graded" in proc.stdout and "pass rate" in proc.stdout
    assert (out / "summary.txt").read_text().strip() in proc.stdout


def test_pass_rate_plot_is_a_png(batch_run) -> None:
    _, _, out = batch_run
    data = (out / "pass_rates.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_no_progress_bar_without_a_terminal(batch_run) -> None:
    proc, _, _ = batch_run
    assert "Grading" not in proc.stderr


class FailingChunks:
    """Runs chunks for real, except that chunks of several submissions fail as a
    whole (as when a cluster loses a worker) and one learner's always fails."""

    name = "flaky"

    def __init__(self, always_failing: str) -> None:
        self.real = ForkRunner(jobs=2)
        self.always_failing = always_failing

    def run(self, chunks, exercises, settings, on_partial=None):
        doomed = {
            i for i, chunk in enumerate(chunks)
            if len(chunk) > 1 or chunk[0].id == self.always_failing
        }  # fmt: skip
        kept = [i for i in range(len(chunks)) if i not in doomed]
        for i in doomed:
            yield i, RuntimeError("the worker running this chunk died")
        for j, outcome in self.real.run([chunks[i] for i in kept], exercises, settings):
            yield kept[j], outcome


def test_a_failed_chunk_is_regraded_one_by_one(tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d"):
        shutil.copytree(SOLUTIONS, tmp_path / "class" / name)
    exercises = registry.select(["scalar_grad", "vector_grad"])
    seen: list[tuple[int, int]] = []
    batch = grade_batch(
        entries=discover(tmp_path / "class"),
        root=(tmp_path / "class").resolve(),
        exercises=exercises,
        settings=Settings(seed=3, limits=Limits(timeout=3)),
        runner=FailingChunks("c"),
        chunk_size=4,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    by_student = {row.student: row for row in batch.rows}
    assert [row.student for row in batch.rows] == ["a", "b", "c", "d"]
    for name in ("a", "b", "d"):
        assert by_student[name].graded and by_student[name].result.score == 20.0
    assert not by_student["c"].graded and by_student["c"].result.score == 0.0
    assert "worker running this chunk died" in by_student["c"].note
    assert {ex.status for ex in by_student["c"].result.exercises} == {NOT_GRADED}
    assert seen[-1] == (4, 4) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_discover_skips_hidden_and_stray_files(tmp_path: Path) -> None:
    for name in ("bob", ".git", "_private", "alice"):
        (tmp_path / name).mkdir()
    (tmp_path / "carol.ipynb").write_text("{}")
    (tmp_path / "notes.md").write_text("x")
    assert discover(tmp_path) == [
        Entry("alice", tmp_path / "alice"),
        Entry("bob", tmp_path / "bob"),
        Entry("carol", tmp_path / "carol.ipynb"),
    ]


def test_batch_imports_no_dask_without_a_scheduler(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    shutil.copytree(SOLUTIONS, klass / "one")
    code = (
        "import sys\n"
        "from grader.cli.main import main\n"
        "try:\n"
        f"    main(['batch', {str(klass)!r}, '--out', {str(tmp_path / 'out')!r},"
        " '--only', 'scalar_grad'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('DASK', sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('dask', 'distributed')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "DASK []" in proc.stdout, proc.stdout
    assert (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["{tmp}/nowhere"], "does not exist"),
        (["{tmp}/files_only"], "holds no submissions"),
        (["{tmp}/files_only", "--out", "{tmp}/files_only/out"], "inside"),
        (["{tmp}/files_only", "--only", "nope"], "unknown exercise"),
        (["{tmp}/files_only", "--unit", "7"], "'7' is not one of"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "files_only").mkdir()
    (tmp_path / "files_only" / "x.py").write_text("")
    if "--out" in args:
        (tmp_path / "files_only" / "alice").mkdir()
    proc = run_grade("batch", *(a.format(tmp=tmp_path) for a in args))
    assert proc.returncode == 2, proc.stderr
    assert said in proc.stderr and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("Error")]) == 1


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for name in ("a", "b"):
        shutil.copytree(SOLUTIONS, klass / name)
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [grade_command(), "batch", str(klass), "--out", str(tmp_path / "out"),
             "--only", "scalar_grad"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary,
            timeout=300, text=True,
        )  # fmt: skip
        os.close(secondary)
        secondary = -1
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    assert proc.returncode == 0
    text = shown.decode(errors="replace")
    assert "Grading" in text and "2/2" in text
    assert "Grading" not in proc.stdout


def test_progress_moves_inside_a_chunk(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        shutil.copytree(SOLUTIONS, tmp_path / "class" / name)
    seen: list[int] = []
    batch = grade_batch(
        entries=discover(tmp_path / "class"),
        root=(tmp_path / "class").resolve(),
        exercises=registry.select(["detach_alias"]),
        settings=Settings(seed=3, limits=Limits(timeout=3)),
        runner=ForkRunner(jobs=1),
        chunk_size=3,
        on_progress=lambda done, total: seen.append(done),
    )
    assert [row.result.score for row in batch.rows] == [10.0, 10.0, 10.0]
    assert seen[0] == 0 and seen[-1] == 3 and seen == sorted(seen)
    assert {1, 2} <= set(seen)  # before the chunk's checks ran, its runs were counted


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_stopped_batch_leaves_no_process_behind(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for i in range(4):  # every run sleeps: without the kernel's help, a chunk would
        folder = klass / f"s{i}"  # notice its batch is gone only when its runs time out
        folder.mkdir(parents=True)
        (folder / "ex01_scalar_grad.py").write_text(
            "import time\n\ndef scalar_grad(f, x):\n    time.sleep(1000)\n"
        )
    proc = subprocess.Popen(
        [grade_command(), "batch", str(klass), "--out", str(tmp_path / "out"), "--chunk-size", "2",
         "--only", "scalar_grad", "--timeout", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        chunks: set[int] = set()
        below: set[int] = set()
        deadline = time.monotonic() + 60  # chunk processes start once torch is imported
        while not below and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            chunks = _children(proc.pid)
            below = {g for c in chunks for g in _children(c)}  # their sandboxes' zygotes
        assert chunks and below, "the batch never started its chunk processes"
        proc.terminate()  # not an interrupt it could clean up after: it just ends
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in chunks | below):
            time.sleep(0.05)
        assert not [p for p in chunks | below if _alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_notebooks_of_a_class_get_a_time_budget_each(tmp_path: Path) -> None:
    """The sandbox gives each folder of file names one overall time budget; two
    learners' notebooks must not share one (or the later ones would time out)."""
    klass = make_class(tmp_path / "class", correct=0)
    shutil.copy(klass / "nb_student.ipynb", klass / "nb_other.ipynb")
    (klass / "nb_folder").mkdir()  # a folder holding one notebook, as nbgrader collects them
    shutil.copy(klass / "nb_student.ipynb", klass / "nb_folder" / "nb_student.ipynb")
    entries = {e.student: e for e in discover(klass)}
    names = ("nb_student", "nb_other", "nb_folder")
    subs = [load_entry(entries[n], registry.EXERCISES, klass.resolve()) for n in names]
    folders = [{str(Path(s.filename).parent) for s in sub.sources.values()} for sub in subs]
    assert all(len(f) == 1 for f in folders)
    assert len({next(iter(f)) for f in folders}) == 3
