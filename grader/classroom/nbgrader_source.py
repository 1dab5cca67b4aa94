"""The nbgrader source assignment: one notebook that teaches and checks every exercise.

For each exercise the notebook holds three cells:

* a read-only markdown cell that teaches the idea, made from the stub's
  bilingual docstring in ``exercises/``;
* a solution cell: the function's ``def`` line, then the reference body from
  ``solutions/`` between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (``nbgrader generate_assignment`` replaces it with ``raise NotImplementedError()``);
* an autograded test cell worth the exercise's points. It calls
  ``grader.classroom.kernel.check``, which prints feedback and evaluates to the
  points earned (nbgrader's partial credit), and writes nothing to stderr.

The test cells are feedback for learners. Grades come from
``grade nbgrader autograde``, which never trusts the kernel.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path
from typing import Any

from grader import registry
from grader.messages import text
from grader.registry import Exercise
from grader.study import bundle

NOTEBOOK = "autograd.ipynb"
ASSIGNMENT = "autograd"  # the first unit's assignment; later units add their number
SCHEMA_VERSION = 3  # nbgrader's cell metadata format
SETUP_CODE = "import torch\n"
ASSIGNMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_\[\]<>#|])")
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")


def assignment_name(units: tuple[int, ...] = ()) -> str:
    """The default assignment of a unit: ``autograd`` for the first (the name a
    course had before there were units), ``autograd2`` for unit 2, and so on.
    Several units, or none named, keep ``autograd``."""
    if len(units) == 1 and units[0] != registry.units()[0]:
        return f"{ASSIGNMENT}{units[0]}"
    return ASSIGNMENT


def test_cell_id(exercise: Exercise) -> str:
    """The nbgrader ``grade_id`` of an exercise's test cell (the gradebook's key)."""
    return f"test_{exercise.name}"


def exercise_of_cell(grade_id: str, exercises: tuple[Exercise, ...]) -> Exercise | None:
    for ex in exercises:
        if test_cell_id(ex) == grade_id:
            return ex
    return None


def write_source_assignment(
    *, course_dir: Path, assignment: str, exercises: tuple[Exercise, ...], force: bool
) -> Path:
    """Write ``course_dir/source/<assignment>/autograd.ipynb``; returns its path.

    Raises ``FileExistsError`` when it exists and ``force`` is false.
    """
    path = course_dir / "source" / assignment / NOTEBOOK
    if (path.exists() or path.is_symlink()) and not force:
        raise FileExistsError(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()  # never write through a link to somewhere else
    notebook = source_notebook(exercises)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def source_notebook(exercises: tuple[Exercise, ...]) -> dict[str, Any]:
    """The source notebook as nbformat 4.5 JSON."""
    intro = "\n\n".join(
        [
            f"# {text('notebook.title', 'en')} · {text('notebook.title', 'zh')}",
            text("notebook.intro", "en"),
            text("notebook.intro", "zh"),
        ]
    )
    cells = [
        _markdown("intro", intro),
        _code("setup", SETUP_CODE, _readonly("setup")),
    ]
    for ex in exercises:
        cells.append(_markdown(f"{ex.name}-concept", concept_markdown(ex)))
        cells.append(_code(ex.name, solution_code(ex), _solution(ex.name)))
        cells.append(_code(test_cell_id(ex), test_code(ex), _test(ex)))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# -- cell contents -----------------------------------------------------------------


def concept_markdown(exercise: Exercise) -> str:
    """The stub's docstring as markdown: a heading, prose paragraphs, code blocks."""
    doc = ast.get_docstring(ast.parse(bundle.stub_text(exercise))) or exercise.title
    title, _, body = doc.partition("\n")
    parts = [f"## {title.strip()}"]
    for block in re.split(r"\n[ \t]*\n", body.strip("\n")):
        lines = block.splitlines()
        if all(line.startswith("    ") or not line.strip() for line in lines):
            parts.append("```python\n" + textwrap.dedent(block).strip("\n") + "\n```")
        else:
            parts.append(_escape(_join_lines([line.strip() for line in lines])))
    return "\n\n".join(parts)


def solution_code(exercise: Exercise) -> str:
    """The reference function with its body between nbgrader's solution markers."""
    source = bundle.solution_text(exercise)
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    imports: list[str] = []
    function: ast.FunctionDef | None = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            segment = "".join(lines[node.lineno - 1 : node.end_lineno])
            if segment != SETUP_CODE:
                imports.append(segment)
        elif isinstance(node, ast.FunctionDef) and node.name == exercise.name:
            function = node
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            raise ValueError(f"solutions/{exercise.file}: unexpected top-level code")
    if function is None:
        raise ValueError(f"solutions/{exercise.file} does not define {exercise.name}")
    start = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    header_end = function.body[0].lineno - 1
    while header_end > function.lineno and lines[header_end - 1].strip()[:1] in ("", "#"):
        header_end -= 1  # comments above the first statement belong to the body
    header = "".join(lines[start - 1 : header_end])
    body = lines[header_end : function.end_lineno]
    indent = re.match(r"[ \t]*", next(line for line in body if line.strip())).group(0)
    return "".join(
        [
            *imports,
            "\n" if imports else "",
            header,
            f"{indent}### BEGIN SOLUTION\n",
            *body,
            f"{indent}### END SOLUTION\n",
        ]
    )


def test_code(exercise: Exercise) -> str:
    points = f"{exercise.points:g}"
    comments = [
        *_wrap(text("notebook.test_cell", "en", name=exercise.name, points=points)),
        *_wrap(text("notebook.test_cell", "zh", name=exercise.name, points=points)),
    ]
    return "".join(
        [
            *(f"# {line}\n" for line in comments),
            "from grader.classroom.kernel import check\n",
            "\n",
            f'check("{exercise.name}", {exercise.name})\n',
        ]
    )


def _wrap(prose: str, width: int = 86) -> list[str]:
    """Lines of at most ``width`` columns (a CJK character takes two), breaking
    between words or between CJK characters."""
    lines: list[str] = []
    line, used = "", 0
    for token in re.findall(r"[^\s\u2e80-\U0010ffff]+|\s+|.", prose):
        size = sum(2 if _wide(c) else 1 for c in token)
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
        if not line and token.isspace():
            continue
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _join_lines(lines: list[str]) -> str:
    """Unwrap a paragraph: a space between words, none between CJK characters."""
    out = ""
    for line in lines:
        if out and not (_wide(out[-1]) or _wide(line[0])):
            out += " "
        out += line
    return out


def _wide(char: str) -> bool:
    return ord(char) >= 0x2E80  # CJK scripts and full-width punctuation


def _escape(prose: str) -> str:
    """Escape markdown's special characters outside `code spans`."""
    parts = _CODE_SPAN.split(prose)
    return "".join(
        part if part.startswith("`") else _MARKDOWN_SPECIAL.sub(r"\\\1", part) for part in parts
    )


# -- nbgrader cells ---------------------------------------------------------------


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool) -> dict[str, Any]:
    return {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }


def _readonly(grade_id: str) -> dict[str, Any]:
    return {"nbgrader": _nbgrader(grade_id, grade=False, solution=False, locked=True)}


def _solution(grade_id: str) -> dict[str, Any]:
    return {"nbgrader": _nbgrader(grade_id, grade=False, solution=True, locked=False)}


def _test(exercise: Exercise) -> dict[str, Any]:
    meta = _nbgrader(test_cell_id(exercise), grade=True, solution=False, locked=True)
    meta["points"] = exercise.points
    return {"nbgrader": meta}


def _markdown(cell_id: str, source: str) -> dict[str, Any]:
    return {
        "cell_type": "markdown",
        "id": cell_id,
        "metadata": _readonly(cell_id),
        "source": source,
    }


def _code(cell_id: str, source: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }
