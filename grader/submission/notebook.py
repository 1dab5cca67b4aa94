"""Read a Jupyter notebook submission into one source per exercise, running nothing.

A notebook is not a module: learners leave experiments, prints, shell commands
and half-finished cells next to their answers, and a cell that raises or exits
must not cost them the exercises defined elsewhere. So each exercise gets its
own source, built from the *definitions* in the code cells:

* Each code cell is parsed on its own. Shell and magic lines (``!cmd``,
  ``%magic``, ``x = !cmd``, ``name?``) become ``pass``; a cell whose first
  line is a cell magic is kept only for magics whose body is Python
  (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``); ``%%bash`` and the
  like are not Python and are skipped.
* Only top-level statements that bind a name are taken: imports, ``def``,
  ``class``, assignments, and compound statements (``if``/``try``/``with``/
  ``for``) that bind names. Calls, prints, asserts and bare expressions are
  dropped, so a playground cell never runs at grading time.
* The source for exercise ``f`` holds every statement that binds ``f``, and,
  transitively, every statement binding a global name those statements read
  (found with ``symtable``, so a function's own local variables do not pull in
  unrelated top-level code), in notebook order. Several definitions of a name
  are all kept in order, so the last one wins as in "Run All". Star imports
  are always kept.
* When the last definition of ``f`` is in a cell that is not valid Python, the
  source is that cell, so the learner sees the syntax error and its line.
* When nothing binds ``f``, the source holds all function and class
  definitions, so the report can list what the notebook does define.

The result is graded exactly like a file in the folder layout, in the same
sandboxed worker. Nothing here executes the learner's code: ``ast`` and
``symtable`` only read it.
"""

from __future__ import annotations

import ast
import json
import re
import symtable
from dataclasses import dataclass
from pathlib import Path

from grader.registry import Exercise
from grader.submission.model import MAX_FILE_BYTES, Source, Submission, SubmissionError
from grader.text_safety import printable

MAX_NOTEBOOK_BYTES = 16 << 20  # notebooks carry outputs (images): a larger cap than .py files
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

_MAGIC_LINE = re.compile(
    r"""^(?P<indent>[ \t]*)(?:
        [!%]                                  # !shell, %magic, %%cell magic
      | [A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[!%]   # x = !cmd
      | \?+[\w.]+[ \t]*$                      # ?name
      | [\w.]+\?+[ \t]*$                      # name?
    )""",
    re.VERBOSE,
)


class NotebookError(Exception):
    """The file is not a notebook this reader understands (the message says why)."""


@dataclass(frozen=True)
class CodeCell:
    number: int  # 1-based position among all cells of the notebook
    text: str


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a code cell that binds names."""

    cell: int
    text: str
    binds: frozenset[str]
    uses: frozenset[str]  # global names it reads (now or when called)
    star: bool = False  # ``from m import *``: always kept
    defines: bool = False  # a def or class
    future: bool = False  # ``from __future__ import ...``: always kept, placed first
    is_import: bool = False


@dataclass(frozen=True)
class BrokenCell:
    """A code cell that is not valid Python even after removing magics."""

    number: int
    text: str


@dataclass(frozen=True)
class NotebookCode:
    statements: tuple[Statement, ...]
    broken: tuple[BrokenCell, ...]


# -- reading the file ------------------------------------------------------------


def load_notebook(
    path: Path,
    exercises: tuple[Exercise, ...],
    *,
    sid: str | None = None,
    root: Path | None = None,
) -> Submission:
    """A notebook submission. ``root``: the folder it was found in (links must stay inside)."""
    if not path.is_symlink() and not path.exists():
        raise SubmissionError(f"{path} does not exist")
    shown = printable(path.name)  # it also heads the source: one line, nothing odd
    sub = Submission(sid or shown, path)
    data, problem = _read_bytes(path, root)
    if problem:
        sub.sources = {ex.file: Source("", shown, problem) for ex in exercises}
        return sub
    sub.sources = notebook_sources(data, exercises, shown)
    return sub


def notebook_defines(
    path: Path, root: Path | None, exercises: tuple[Exercise, ...]
) -> frozenset[str]:
    """Names of ``exercises`` whose function the notebook's code cells define, in a
    valid cell or not (none when the file cannot be read as a notebook)."""
    try:
        data, problem = _read_bytes(path, root)
    except (SubmissionError, OSError):
        return frozenset()
    if problem:
        return frozenset()
    try:
        code = analyse(code_cells(data))
    except NotebookError:
        return frozenset()
    bound = {name for stmt in code.statements for name in stmt.binds}
    return frozenset(
        ex.name
        for ex in exercises
        if ex.name in bound or any(_definition(ex.name).search(c.text) for c in code.broken)
    )


def _read_bytes(path: Path, root: Path | None) -> tuple[bytes, str]:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return b"", "it is a broken link"
    if root is not None and not real.is_relative_to(root):
        return b"", "it is a link to a file outside the submission"
    if not real.is_file():
        if root is None:
            raise SubmissionError(f"{path} is not a file")
        return b"", "it is not a regular file"
    if real.stat().st_size > MAX_NOTEBOOK_BYTES:
        return b"", f"it is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
    with open(real, "rb") as fh:
        data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        return b"", f"it is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
    return data, ""


def notebook_sources(data: bytes, exercises: tuple[Exercise, ...], shown: str) -> dict[str, Source]:
    """One ``Source`` per exercise file name, built from the notebook's code cells."""
    try:
        code = analyse(code_cells(data))
    except NotebookError as exc:
        return {ex.file: Source("", shown, str(exc)) for ex in exercises}
    sources: dict[str, Source] = {}
    for ex in exercises:
        text = exercise_source(code, ex.name, shown)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            why = f"its code for {ex.name} is larger than {MAX_FILE_BYTES >> 10} KiB"
            sources[ex.file] = Source("", shown, why)
        else:
            sources[ex.file] = Source(text, shown)
    return sources


def code_cells(data: bytes) -> list[CodeCell]:
    """The code cells of an nbformat 4 notebook, in order. Raises ``NotebookError``."""
    if b"\x00" in data:
        raise NotebookError("it contains NUL bytes, so it is not a notebook")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"it is not UTF-8 text (byte {exc.start})") from None
    except (ValueError, RecursionError):
        raise NotebookError("it is not a Jupyter notebook (not valid JSON)") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("it is not a Jupyter notebook in format 4 (it has no list of cells)")
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if isinstance(source, str) and source.strip():
            found.append(CodeCell(number, source))
    return found


# -- from cells to statements ----------------------------------------------------------


def python_text(text: str) -> str | None:
    """The cell as Python: magic and shell lines become ``pass``; None if not Python."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(maxsplit=1)
        if not name or name[0] not in PYTHON_CELL_MAGICS:
            return None
        lines[first] = ""
    out = []
    continued = False
    for line in lines:
        match = _MAGIC_LINE.match(line)
        if continued or match:
            indent = match.group("indent") if match else ""
            out.append("" if continued else indent + "pass")
            continued = line.rstrip().endswith("\\")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def analyse(cells: list[CodeCell]) -> NotebookCode:
    statements: list[Statement] = []
    broken: list[BrokenCell] = []
    for cell in cells:
        text, tree = _parse_cell(cell.text)
        if text is None:
            continue
        if tree is None:
            broken.append(BrokenCell(cell.number, text))
            continue
        statements.extend(_statements(cell.number, text, tree))
    return NotebookCode(tuple(statements), tuple(broken))


def _parse_cell(text: str) -> tuple[str | None, ast.Module | None]:
    """(python text, tree); tree None: not valid Python; text None: not Python at all."""
    tree = _parse(text)
    if tree is not None:
        return text, tree
    python = python_text(text)
    if python is None:
        return None, None
    return python, _parse(python)


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _statements(cell: int, text: str, tree: ast.Module) -> list[Statement]:
    lines = text.splitlines(keepends=True)
    body = tree.body
    found = []
    for i, node in enumerate(body):
        start = _first_line(node)
        end = node.end_lineno or node.lineno
        shares_line = (i > 0 and (body[i - 1].end_lineno or 0) >= start) or (
            i + 1 < len(body) and _first_line(body[i + 1]) <= end
        )
        try:
            stmt_text = ast.unparse(node) + "\n" if shares_line else "".join(lines[start - 1 : end])
        except (RecursionError, ValueError):
            continue
        if not stmt_text.endswith("\n"):
            stmt_text += "\n"
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        star = isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
        binds, uses = _names(stmt_text, node)
        if binds or star or future:
            defines = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            is_import = isinstance(node, ast.Import | ast.ImportFrom)
            found.append(Statement(cell, stmt_text, binds, uses, star, defines, future, is_import))
    return found


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _names(text: str, node: ast.stmt) -> tuple[frozenset[str], frozenset[str]]:
    """Names the statement binds at top level, and the global names it reads."""
    try:
        table = symtable.symtable(text, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Valid syntax but refused by the compiler (e.g. a misplaced nonlocal):
        # keep what it claims to define, so the worker reports the error.
        return _declared_names(node), frozenset()
    binds = set()
    uses = set()
    for sym in table.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            binds.add(sym.get_name())
        if sym.is_referenced():
            uses.add(sym.get_name())
    pending = list(table.get_children())
    while pending:
        child = pending.pop()
        pending.extend(child.get_children())
        for sym in child.get_symbols():
            if sym.is_global() and sym.is_referenced():
                uses.add(sym.get_name())
    return frozenset(binds), frozenset(uses)


def _declared_names(node: ast.stmt) -> frozenset[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return frozenset({node.name})
    targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
    return frozenset(
        n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)
    )


# -- from statements to an exercise's source -----------------------------------------------


def _definition(name: str) -> re.Pattern[str]:
    """A line that defines ``name`` at top level (``def``, ``class`` or an assignment)."""
    word = re.escape(name)
    return re.compile(
        rf"^(?:(?:async[ \t]+)?def|class)[ \t]+{word}\b|^{word}[ \t]*(?::[^=\n]*)?=(?!=)",
        re.MULTILINE,
    )


def exercise_source(code: NotebookCode, name: str, shown: str) -> str:
    """The Python source graded for exercise function ``name``."""
    statements = code.statements
    binders: dict[str, list[int]] = {}
    for index, stmt in enumerate(statements):
        for bound in stmt.binds:
            binders.setdefault(bound, []).append(index)
    last_valid = max((statements[i].cell for i in binders.get(name, [])), default=0)
    defining = _definition(name)
    broken = [cell for cell in code.broken if defining.search(cell.text)]
    if broken and broken[-1].number > last_valid:
        cell = broken[-1]
        return f"# {shown}, cell {cell.number} (not valid Python)\n{cell.text}"
    if name in binders:
        wanted = [name]
    else:
        wanted = sorted({n for s in statements if s.defines for n in s.binds})
    chosen = {i for i, s in enumerate(statements) if s.star or s.future}
    seen: set[str] = set()
    while wanted:
        needed = wanted.pop()
        if needed in seen:
            continue
        seen.add(needed)
        for index in binders.get(needed, []):
            if index not in chosen:
                chosen.add(index)
                wanted.extend(statements[index].uses - seen)
    parts = [f"# {name} and what it needs, from the code cells of {shown}\n"]
    cell = 0
    imported: set[str] = set()
    for index in sorted(chosen, key=lambda i: (not statements[i].future, i)):
        stmt = statements[index]
        if stmt.is_import:
            if stmt.text in imported:  # the same import in several cells: once is enough
                continue
            imported.add(stmt.text)
        if stmt.cell != cell:
            cell = stmt.cell
            parts.append(f"# cell {cell}\n")
        parts.append(stmt.text)
    return "".join(parts)
