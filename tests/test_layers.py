"""Imports run one way: lower layers never import the ones above them.

From the bottom: ``registry``, ``cases``, ``functions``, ``layout``, ``messages``,
``text_safety``; then ``submission`` (reading work from disk) and ``runner``
(where learners' code runs); then ``checks``; then ``grading``; then
``report``, ``study`` and ``classroom``; then ``cli``, whose ``main`` registers
the commands and is imported by no other command module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"

# package (folder or module) -> packages it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "submission": ("grader.classroom", "grader.cli", "grader.study", "grader.grading"),
    "runner": ("grader.classroom", "grader.cli", "grader.study", "grader.grading",
               "grader.checks", "grader.report"),
    "checks": ("grader.classroom", "grader.cli", "grader.study", "grader.grading"),
    "report": ("grader.classroom", "grader.cli", "grader.study"),
    "classroom": ("grader.cli",),
    "study": ("grader.cli",),
}  # fmt: skip
# Renderers read result models: the self-study statuses are one.
ALLOWED = ("grader.study.progress",)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def files_of(part: str) -> list[Path]:
    folder = PACKAGE / part
    return sorted(folder.glob("*.py")) if folder.is_dir() else [PACKAGE / f"{part}.py"]


@pytest.mark.parametrize("part", FORBIDDEN)
def test_lower_layers_do_not_import_higher_ones(part: str) -> None:
    for file in files_of(part):
        bad = {
            name
            for name in imports_of(file)
            for banned in FORBIDDEN[part]
            if (name == banned or name.startswith(banned + "."))
            and not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED)
        }
        assert not bad, f"{file.relative_to(PACKAGE.parent)} imports {sorted(bad)}"


def test_command_modules_do_not_import_the_command_group() -> None:
    for file in files_of("cli"):
        if file.name == "main.py":
            continue
        assert "grader.cli.main" not in imports_of(file), file.name
