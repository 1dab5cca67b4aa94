"""Notebook submissions: functions come from code cells, and nothing else of the
notebook runs, neither in the grader nor in the sandbox."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import ALL_POINTS, SOLUTIONS, by_name, run_grade

from grader import registry
from grader.grading import Settings, grade
from grader.results import SubmissionResult
from grader.runner.execute import Limits
from grader.submission import SubmissionError, exercises_held, exercises_to_grade, load
from grader.submission.notebook import analyse, code_cells, exercise_source, notebook_sources


def notebook_json(*cells: str | tuple[str, str]) -> str:
    """A notebook: a str is a code cell, ("markdown", text) a markdown cell."""
    out = []
    for cell in cells:
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        entry = {"cell_type": kind, "metadata": {}, "source": textwrap.dedent(source)}
        if kind == "code":
            entry.update(outputs=[], execution_count=None)
        out.append(entry)
    return json.dumps({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def write_notebook(folder: Path, *cells: str | tuple[str, str], name: str = "work.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(notebook_json(*cells))
    return path


def solution_cells() -> list[str]:
    return [(SOLUTIONS / ex.file).read_text() for ex in registry.EXERCISES]


def grade_notebook(path: Path, only: tuple[str, ...] = ()) -> SubmissionResult:
    """Graded as ``grade PATH`` grades it: the units its functions belong to, or ``only``."""
    exercises = exercises_to_grade(path, only=only)
    (result,) = grade([load(path, exercises)], exercises, Settings(seed=7, limits=Limits(2.0)))
    return result


def source_of(name: str, *cells: str) -> str:
    data = notebook_json(*cells).encode()
    return exercise_source(analyse(code_cells(data)), name, "work.ipynb")


def test_a_messy_notebook_earns_full_marks_and_its_playground_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cells: list[str | tuple[str, str]] = [
        ("markdown", "# My homework"),
        "!pip install torch\n%matplotlib inline\nimport torch\n",
        f"open({str(marker)!r}, 'w').write('the playground ran')\n",
        "while True:\n    pass\n",  # a cell that never ends is not run at grading time
        "import sys\nsys.exit(3)\n",
        "%%bash\necho not python\n",
    ]
    for code in solution_cells():
        cells.append(code)
        cells.append(
            "x = torch.tensor(3.0)\ny = scalar_grad(lambda t: t**2, x)\nraise ValueError\n"
        )
    result = grade_notebook(write_notebook(tmp_path / "nb", *cells))
    assert [ex.name for ex in result.exercises if not ex.passed] == []
    assert result.score == result.max_score == ALL_POINTS  # every unit's function is there
    assert not marker.exists()


def test_a_broken_cell_costs_only_the_exercise_it_defines(tmp_path: Path) -> None:
    cells = solution_cells()
    cells[0] += "\ndef scalar_grad(f, x)\n    return 1\n"  # a later, broken definition
    cells.append("def helper(:\n    pass\n")  # broken, defines nothing graded
    result = by_name(
        grade_notebook(write_notebook(tmp_path, *cells), ("scalar_grad", "vector_grad"))
    )
    assert result["scalar_grad"].status == "import_error"
    assert result["scalar_grad"].score == 0
    said = result["scalar_grad"].feedback.render("en")
    assert "SyntaxError" in said and "def scalar_grad(f, x)" in said
    assert result["vector_grad"].passed


def test_code_a_definition_needs_runs_in_the_sandbox_only(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        "import os\nEXIT = os._exit(9)\n",
        "def scalar_grad(f, x):\n    EXIT\n    return x\n",
        solution_cells()[1],
    )
    result = by_name(grade_notebook(path, ("scalar_grad", "vector_grad")))
    assert result["scalar_grad"].status == "exited"
    assert result["scalar_grad"].score == 0
    assert result["vector_grad"].passed


def test_definitions_come_with_what_they_need_and_nothing_else() -> None:
    source = source_of(
        "scalar_grad",
        "import torch\nimport numpy as np\nEPS = 0.5\n",
        "x = torch.tensor(2.0)\ny = scalar_grad(lambda t: t, x)\nprint(y)\n",
        "def _leaf(x):\n    return x.detach().requires_grad_(True)\n",
        "def scalar_grad(f, x):\n    x = _leaf(x)\n    y = f(x) * EPS / EPS\n"
        "    y.backward()\n    return x.grad\n",
        "def unrelated():\n    return np.zeros(3)\n",
    )
    assert "def _leaf(x)" in source and "EPS = 0.5" in source and "def scalar_grad" in source
    # The function's local x and y do not pull in the playground's x and y.
    assert "print" not in source and "torch.tensor(2.0)" not in source
    assert "unrelated" not in source and "numpy" not in source


def test_the_last_definition_wins_and_lambdas_count() -> None:
    source = source_of(
        "scalar_grad",
        "def scalar_grad(f, x):\n    raise NotImplementedError()\n",
        "import torch\nscalar_grad = lambda f, x: torch.func.grad(f)(x)\n",
    )
    assert source.index("raise NotImplementedError") < source.index("scalar_grad = lambda")
    namespace: dict = {}
    exec(compile(source, "nb", "exec"), namespace)  # the test's own check of the text
    import torch

    assert float(namespace["scalar_grad"](lambda t: t**3, torch.tensor(2.0))) == 12.0


def test_magics_and_shell_lines_are_never_kept() -> None:
    source = source_of(
        "scalar_grad",
        "%%time\nimport torch\n",
        "files = !ls\n%timeit 1\ntorch?\n",
        "def scalar_grad(f, x):\n    !echo hi \\\n        continued\n"
        "    return torch.func.grad(f)(x)\n",
    )
    assert "!" not in source and "%" not in source and "continued" not in source
    assert "import torch" in source and "return torch.func.grad(f)(x)" in source
    compile(source, "nb", "exec")


def test_a_missing_function_lists_what_the_notebook_defines(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "def scalar_gradient(f, x):\n    return x\n")
    result = by_name(grade_notebook(path, ("scalar_grad",)))
    assert result["scalar_grad"].status == "missing_function"
    assert "scalar_gradient" in result["scalar_grad"].feedback.render("en")


def test_future_imports_stay_first() -> None:
    source = source_of(
        "scalar_grad",
        "import torch\n",
        "from __future__ import annotations\ndef scalar_grad(f, x: Missing):\n"
        "    return torch.func.grad(f)(x)\n",
    )
    compile(source, "nb", "exec")
    assert source.index("from __future__") < source.index("import torch")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"cells": 3}', "no list of cells"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"cells": []}\x00', "NUL bytes"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_refused_per_exercise(data: bytes, why: str) -> None:
    sources = notebook_sources(data, registry.EXERCISES, "work.ipynb")
    assert all(s.problem and why in s.problem and not s.text for s in sources.values())


def test_load_takes_a_notebook_a_folder_holding_one_or_the_folder_layout(tmp_path: Path) -> None:
    one = tmp_path / "one"
    write_notebook(one, "def scalar_grad(f, x):\n    return x\n")
    assert load(one, registry.EXERCISES).path == one / "work.ipynb"
    assert load(one / "work.ipynb", registry.EXERCISES).id == "work.ipynb"
    two = tmp_path / "two"
    write_notebook(two, "x = 1\n", name="a.ipynb")
    write_notebook(two, "x = 1\n", name="b.ipynb")
    with pytest.raises(SubmissionError, match="several notebooks"):
        load(two, registry.EXERCISES)
    mixed = tmp_path / "mixed"
    write_notebook(mixed, "x = 1\n")
    (mixed / "ex01_scalar_grad.py").write_text("def scalar_grad(f, x):\n    return x\n")
    assert load(mixed, registry.EXERCISES).path == mixed
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SubmissionError, match="neither a folder nor a notebook"):
        load(tmp_path / "notes.txt", registry.EXERCISES)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SubmissionError, match="no notebook"):
        load(tmp_path / "empty", registry.EXERCISES)


def test_the_exercises_a_notebook_holds_are_the_functions_it_defines(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb",
        "import torch\n",
        "def hvp(f, x, v):\n    return v\n",
        "jacobian = lambda f, x: x\n",
        "print(scalar_grad)\n",  # used, not defined
        "def save_weights(params, path)\n    pass\n",  # defined in a cell that is not Python
        "def helper():\n    def to_numpy(t):\n        return t\n",  # not at top level
    )
    assert exercises_held(path) == {"hvp", "jacobian", "save_weights"}
    assert exercises_held(path.parent) == exercises_held(path)
    assert {ex.unit for ex in exercises_to_grade(path)} == {2}
    (tmp_path / "nb" / "notes.ipynb").write_text("{}")  # two notebooks: none is chosen
    assert exercises_held(tmp_path / "nb") == frozenset()
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert exercises_held(tmp_path / "bad.ipynb") == frozenset()
    assert {ex.unit for ex in exercises_to_grade(tmp_path / "bad.ipynb")} == {1}


def test_a_notebook_linked_from_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    outside = write_notebook(tmp_path / "elsewhere", solution_cells()[0])
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "work.ipynb").symlink_to(outside)
    sub = load(folder, registry.EXERCISES)
    assert all("outside the submission" in s.problem for s in sub.sources.values())


def test_grade_command_grades_a_notebook(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "import torch\n", *solution_cells())
    proc = run_grade(
        str(path), "--format", "json", "--only", "scalar_grad", "--only", "fresh_grads"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"] == 20
    write_notebook(tmp_path, "x = 1\n", name="other.ipynb")
    proc = run_grade(str(tmp_path))
    assert proc.returncode == 2
    assert "several notebooks" in proc.stderr and "Traceback" not in proc.stderr
