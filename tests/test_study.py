"""Self-study commands: hints, list and progress, init, reset, solution, and a
non-editable install that can hand out fresh exercises without the source tree."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS, UNIT1, UNIT2, copy_units, grade_folder, run_grade

import grader
from grader import registry
from grader.hints import EXPLANATIONS, HINTS
from grader.study.names import find_exercise
from grader.study.progress import STATE_FILE

WRONG_ACCUMULATE = """\
def accumulated_grad(f, x, times):
    for _ in range(times):
        x.grad = None
        f(x).sum().backward()
    return x.grad
"""


def fresh_folder(
    tmp_path: Path, solved: tuple[str, ...] = (), name: str = "ex", units: tuple[int, ...] = ()
) -> Path:
    """A copy of the stubs (of ``units``; all when none) with the reference solution
    in the files named."""
    folder = copy_units(EXERCISES, tmp_path / name, units)
    for path in [*folder.glob(STATE_FILE), *folder.glob("*.bak*")]:
        path.unlink()
    for file in solved:
        shutil.copy(SOLUTIONS / file, folder / file)
    return folder


# --- hints -----------------------------------------------------------------


def test_every_exercise_has_two_or_three_hints_in_every_language() -> None:
    names = {ex.name for ex in registry.EXERCISES}
    for lang, hints in HINTS.items():
        assert set(hints) == names, lang
        assert set(EXPLANATIONS[lang]) == names, lang
        for name, levels in hints.items():
            assert 2 <= len(levels) <= 3, (lang, name)
            assert len(levels) == len(HINTS["en"][name]), (lang, name)
            assert all(level.strip() for level in levels), (lang, name)


# Code, as opposed to naming an idea: a method call on an object, a chain,
# an assignment, anything from torch, or a code span.
CODE = re.compile(r"\w\.\w+\(|\)\.\w|`|\s=\s|torch\.")


def test_first_hint_gives_no_code_away_and_the_last_nearly_does() -> None:
    for lang, hints in HINTS.items():
        for name, levels in hints.items():
            first = levels[0]
            assert not CODE.search(first), (lang, name, first)
            assert CODE.search(levels[-1]), (lang, name, levels[-1])
            solution = (SOLUTIONS / registry.BY_NAME[name].file).read_text()
            code_lines = [ln.split("#")[0].strip() for ln in solution.splitlines()]
            for line in code_lines:
                if len(line) > 12 and not line.startswith(('"""', "def ", "import ")):
                    assert line not in first, (lang, name, line)


def test_hint_command_shows_levels_and_refuses_bad_input() -> None:
    first = run_grade("hint", "scalar_grad", "--lang", "en")
    assert first.returncode == 0, first.stderr
    assert HINTS["en"]["scalar_grad"][0] in first.stdout
    assert "--level 2" in first.stdout
    last = run_grade("hint", "ex05", "--level", "3", "--lang", "zh")
    assert last.returncode == 0, last.stderr
    assert HINTS["zh"]["accumulated_grad"][2] in last.stdout
    too_far = run_grade("hint", "scalar_grad", "--level", "9", "--lang", "en")
    assert too_far.returncode == 2
    assert "between 1 and 3" in too_far.stderr
    assert "Traceback" not in too_far.stderr
    unknown = run_grade("hint", "scalar", "--lang", "en")
    assert unknown.returncode == 2
    assert "unknown exercise scalar" in unknown.stderr


def test_exercises_are_found_by_name_file_or_number() -> None:
    ex = registry.BY_NAME["fresh_grads"]
    for spelling in ("fresh_grads", "ex06_zero_grad.py", "ex06_zero_grad", "ex06", "6", "06"):
        assert find_exercise(spelling) == ex
    with pytest.raises(KeyError):
        find_exercise("zero_grad")


# --- list and progress -------------------------------------------------------


def list_lines(output: str) -> dict[str, str]:
    return {line.split()[1]: line for line in output.splitlines() if re.match(r"\s*\d+\s", line)}


def test_list_shows_states_and_grades_only_what_changed(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path, solved=("ex01_scalar_grad.py",), units=(1,))
    (folder / "ex05_accumulate.py").write_text(WRONG_ACCUMULATE)
    (folder / "ex08_detach.py").unlink()

    first = run_grade("list", str(folder), "--lang", "en")
    assert first.returncode == 0, first.stderr
    lines = list_lines(first.stdout)
    assert "passed" in lines["scalar_grad"] and "10/10" in lines["scalar_grad"]
    assert "failing" in lines["accumulated_grad"]
    assert "not started" in lines["vector_grad"] and "0/10" in lines["vector_grad"]
    assert "missing" in lines["detach_alias"]
    assert "1/8 exercises passed" in first.stdout  # a folder of unit 1: its eight
    assert "shared_trunk_grads" not in lines

    state = json.loads((folder / STATE_FILE).read_text())
    assert state["exercises"]["scalar_grad"]["state"] == "passed"
    assert state["exercises"]["accumulated_grad"]["state"] == "failing"

    # An unchanged file is not graded again: the saved record is what list shows.
    state["exercises"]["scalar_grad"].update(state="failing", score=7.0)
    (folder / STATE_FILE).write_text(json.dumps(state))
    second = run_grade("list", str(folder), "--lang", "en")
    assert "failing" in list_lines(second.stdout)["scalar_grad"]
    assert "7/10" in list_lines(second.stdout)["scalar_grad"]

    # A changed file is graded again.
    with (folder / "ex01_scalar_grad.py").open("a") as fh:
        fh.write("\n# saved again\n")
    third = run_grade("list", str(folder), "--lang", "en")
    assert "passed" in list_lines(third.stdout)["scalar_grad"]
    assert "10/10" in list_lines(third.stdout)["scalar_grad"]


def test_progress_file_is_ignored_by_graders(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path)
    forged = {
        ex.name: {"digest": "x", "state": "passed", "score": 10.0, "max_score": 10.0}
        for ex in registry.EXERCISES
    }
    doc = {"version": 1, "grader": grader.__version__, "exercises": forged}
    (folder / STATE_FILE).write_text(json.dumps(doc))
    result = grade_folder(folder, only=("scalar_grad", "detach_alias"))
    assert result.score == 0


def test_damaged_progress_file_is_treated_as_no_progress(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path)
    (folder / STATE_FILE).write_text("{not json")
    proc = run_grade("list", str(folder), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "0/16 exercises passed" in proc.stdout  # both units' stubs


def test_list_groups_the_exercises_by_unit(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path, solved=("ex10_higher_order.py",))
    for lang, heading in (("en", "Unit {} · exercises {}-{}"), ("zh", "第 {} 单元 · 练习 {}-{}")):
        proc = run_grade("list", str(folder), "--lang", lang)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        first, second = heading.format(1, 1, 8), heading.format(2, 9, 16)
        start, middle = lines.index(first), lines.index(second)
        rows = [line.split()[1] for line in lines if re.match(r"\s*\d+\s", line)]
        assert rows == [ex.name for ex in registry.EXERCISES]
        assert [line.split()[1] for line in lines[start + 1 : middle] if line.strip()] == [
            ex.name for ex in UNIT1
        ]
        assert lines[middle + 1].split()[1] == UNIT2[0].name
    assert "1/16 exercises passed" in run_grade("list", str(folder), "--lang", "en").stdout
    second_only = fresh_folder(tmp_path, name="second", units=(2,))
    proc = run_grade("list", str(second_only), "--lang", "en")
    assert "Unit 2 · exercises 9-16" in proc.stdout and "Unit 1" not in proc.stdout
    assert set(list_lines(proc.stdout)) == {ex.name for ex in UNIT2}


def test_list_of_a_missing_folder_says_how_to_make_one(tmp_path: Path) -> None:
    proc = run_grade("list", str(tmp_path / "nowhere"), "--lang", "en")
    assert proc.returncode == 2
    assert "grade init" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- init and reset ----------------------------------------------------------


def test_init_writes_stubs_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    made = run_grade("init", str(target), "--lang", "en")
    assert made.returncode == 0, made.stderr
    for ex in registry.EXERCISES:
        assert (target / ex.file).read_text() == (EXERCISES / ex.file).read_text()
    assert sorted(p.name for p in target.glob("ex*.py")) == sorted(
        ex.file for ex in registry.EXERCISES
    )  # every unit
    readme = (target / "README.md").read_text()
    assert "grade watch" in readme and "练习" in readme
    assert "16 small exercises" in readme and "16 个" in readme

    (target / "ex01_scalar_grad.py").write_text("# my work\n")
    again = run_grade("init", str(target), "--lang", "en")
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert (target / "ex01_scalar_grad.py").read_text() == "# my work\n"

    forced = run_grade("init", str(target), "--force", "--lang", "en")
    assert forced.returncode == 0, forced.stderr
    assert (target / "ex01_scalar_grad.py").read_text() == (
        EXERCISES / "ex01_scalar_grad.py"
    ).read_text()


def test_init_unit_writes_that_units_stubs(tmp_path: Path) -> None:
    first = run_grade("init", str(tmp_path / "first"), "--unit", "1", "--lang", "en")
    assert first.returncode == 0, first.stderr
    assert "Wrote 8 exercise files" in first.stdout
    written = sorted(p.name for p in (tmp_path / "first").glob("ex*.py"))
    assert written == [ex.file for ex in UNIT1]
    readme = (tmp_path / "first" / "README.md").read_text()
    assert "8 small exercises" in readme and "8 个" in readme
    second = run_grade("init", str(tmp_path / "second"), "--unit", "2", "--lang", "en")
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in (tmp_path / "second").glob("ex*.py")) == [ex.file for ex in UNIT2]
    # Unit 2 beside an existing unit-1 folder: nothing of the learner's is overwritten.
    (tmp_path / "first" / "ex01_scalar_grad.py").write_text("# my work\n")
    more = run_grade("init", str(tmp_path / "first"), "--unit", "2", "--lang", "en")
    assert more.returncode == 0, more.stderr
    assert "Wrote 8 exercise files" in more.stdout and "beside its README.md" in more.stdout
    assert (tmp_path / "first" / "README.md").read_text() == readme  # kept
    assert len(list((tmp_path / "first").glob("ex*.py"))) == 16
    assert (tmp_path / "first" / "ex01_scalar_grad.py").read_text() == "# my work\n"
    bad = run_grade("init", str(tmp_path / "third"), "--unit", "9", "--lang", "en")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert not (tmp_path / "third").exists()


def test_names_of_every_unit_resolve_in_hint_reset_and_solution(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path, solved=("ex16_save_weights.py",), units=(1,))
    assert run_grade("hint", "hvp", "--lang", "en").returncode == 0
    assert run_grade("hint", "14", "--lang", "en").returncode == 0
    reset = run_grade("reset", "ex13", str(folder), "--lang", "en")
    assert reset.returncode == 0, reset.stderr
    assert (folder / "ex13_custom_function.py").read_text() == (
        EXERCISES / "ex13_custom_function.py"
    ).read_text()
    shown = run_grade("solution", "save_weights", str(folder), "--lang", "en")
    assert shown.returncode == 0, shown.stderr
    assert EXPLANATIONS["en"]["save_weights"] in shown.stdout


def test_reset_keeps_the_learners_version_beside_the_stub(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path, solved=("ex03_partial_grads.py",))
    mine = (folder / "ex03_partial_grads.py").read_text()
    proc = run_grade("reset", "partial_grads", str(folder), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "ex03_partial_grads.py").read_text() == (
        EXERCISES / "ex03_partial_grads.py"
    ).read_text()
    assert (folder / "ex03_partial_grads.py.bak").read_text() == mine
    assert "ex03_partial_grads.py.bak" in proc.stdout

    (folder / "ex03_partial_grads.py").write_text("# second try\n")
    run_grade("reset", "3", str(folder), "--lang", "en")
    assert (folder / "ex03_partial_grads.py.bak2").read_text() == "# second try\n"
    assert (folder / "ex03_partial_grads.py.bak").read_text() == mine


# --- solution ----------------------------------------------------------------


def test_solution_only_after_the_learners_code_passes(tmp_path: Path) -> None:
    folder = fresh_folder(tmp_path, solved=("ex08_detach.py",))
    (folder / "ex05_accumulate.py").write_text(WRONG_ACCUMULATE)
    reference = "return x.detach()  # same memory as x"

    shown = run_grade("solution", "detach_alias", str(folder), "--lang", "en")
    assert shown.returncode == 0, shown.stderr
    assert reference in shown.stdout
    assert EXPLANATIONS["en"]["detach_alias"] in shown.stdout

    locked = run_grade("solution", "accumulated_grad", str(folder), "--lang", "en")
    assert locked.returncode == 1
    assert "does not pass yet" in locked.stderr
    assert "backward()  # each backward() adds" not in locked.stdout

    declined = _grade_with_input("n\n", "solution", "5", "--force", "--lang", "en")
    assert declined.returncode == 1
    assert "def accumulated_grad" not in declined.stdout

    accepted = _grade_with_input("y\n", "solution", "5", "--force", "--lang", "zh")
    assert accepted.returncode == 0, accepted.stderr
    assert "def accumulated_grad" in accepted.stdout
    assert EXPLANATIONS["zh"]["accumulated_grad"] in accepted.stdout


def _grade_with_input(stdin: str, *args: str) -> subprocess.CompletedProcess:
    from conftest import grade_command

    return subprocess.run(
        [grade_command(), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


# --- a real, non-editable install ---------------------------------------------


def test_wheel_install_hands_out_exercises_without_the_source_tree(tmp_path: Path) -> None:
    """Build a wheel, install it (not editable) into a fresh venv, and use it
    from a folder far from this checkout. The venv borrows the heavy
    dependencies (torch, ...) from this interpreter's site-packages through a
    .pth file; the package itself comes only from the wheel."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", STATE_FILE)
    for name in ("grader", "exercises", "solutions"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    wheels = tmp_path / "wheels"
    # The test extra brings a setuptools that builds wheels by itself; an older
    # one (Python 3.11's venv default) builds in pip's isolated environment.
    isolation = ["--no-build-isolation"] if _setuptools_builds_wheels() else []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation]
        + ["-w", str(wheels), str(src)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("autograd_grader-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    venv_site = Path(
        subprocess.check_output(
            [str(python), "-c", "import site; print(site.getsitepackages()[0])"]
        )
        .decode()
        .strip()
    )
    borrowed = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (venv_site / "borrowed-deps.pth").write_text("\n".join(borrowed) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    shutil.rmtree(src)  # nothing of the source tree is left to fall back on

    work = tmp_path / "learner"
    work.mkdir()
    grade = str(venv / "bin" / "grade")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [grade, *args, "--lang", "en"],
            cwd=work,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    where = subprocess.check_output(
        [str(python), "-c", "import grader; print(grader.__file__)"], cwd=work
    )
    assert Path(where.decode().strip()).is_relative_to(venv)

    made = run("init", "ex")
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (work / "ex").glob("ex*.py")) == sorted(
        ex.file for ex in registry.EXERCISES
    )
    shutil.copy(SOLUTIONS / "ex08_detach.py", work / "ex" / "ex08_detach.py")

    listed = run("list", "ex")
    assert listed.returncode == 0, listed.stderr
    assert "passed" in list_lines(listed.stdout)["detach_alias"]
    assert "not started" in list_lines(listed.stdout)["scalar_grad"]

    shown = run("solution", "detach_alias", "ex")
    assert shown.returncode == 0, shown.stderr
    assert (SOLUTIONS / "ex08_detach.py").read_text().strip() in shown.stdout

    forced = run("solution", "scalar_grad", "ex", "--force", stdin="y\n")
    assert forced.returncode == 0, forced.stderr
    assert textwrap.dedent("y.backward()  # dy/dx lands in x.grad") in forced.stdout


def _setuptools_builds_wheels() -> bool:
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (70, 1)
