"""``grade watch`` driven in a real pseudo-terminal: saves, keys, quitting."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pexpect
from conftest import EXERCISES, SOLUTIONS, UNIT1, copy_units, grade_command

from grader import registry
from grader.study.progress import STATE_FILE

RAISES = """\
def scalar_grad(f, x):
    value = f(x)
    raise ValueError("not sure what to return")
"""


def folder_with(tmp_path: Path, solved: list[str], units: tuple[int, ...] = ()) -> Path:
    """The stubs of ``units`` (all when none), the files named solved."""
    folder = copy_units(EXERCISES, tmp_path / "ex", units)
    for path in [*folder.glob(STATE_FILE), *folder.glob("*.bak*")]:
        path.unlink()
    for file in solved:
        shutil.copy(SOLUTIONS / file, folder / file)
    return folder


def spawn_watch(folder: Path, *args: str, no_color: bool) -> tuple[pexpect.spawn, io.StringIO]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    if no_color:
        env["NO_COLOR"] = "1"
    child = pexpect.spawn(
        grade_command(),
        ["watch", str(folder), "--lang", "en", *args],
        env=env,
        encoding="utf-8",
        timeout=90,  # a guard against hanging, not a speed requirement
        dimensions=(60, 160),
    )
    seen = io.StringIO()
    child.logfile_read = seen
    return child, seen


def save_by_rename(path: Path, text: str) -> None:
    """Save the way many editors do: write a new file, then rename it over the old one."""
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_watch_grades_every_save_and_answers_keys(tmp_path: Path) -> None:
    solved = [ex.file for ex in UNIT1[2:]]
    folder = folder_with(tmp_path, solved, units=(1,))  # a folder of unit 1: its eight
    child, seen = spawn_watch(folder, no_color=False)
    try:
        child.expect("6/8 exercises passed")
        child.expect("Exercise 1")
        child.expect("Watching")

        child.send("h")
        child.expect("Hint 1/3 for scalar_grad")
        child.send("h")
        child.expect("Hint 2/3 for scalar_grad")

        (folder / "ex01_scalar_grad.py").write_text(RAISES)  # saved in place
        child.expect("raised ValueError: not sure what to return")
        child.expect("Watching")

        save_by_rename(
            folder / "ex01_scalar_grad.py", (SOLUTIONS / "ex01_scalar_grad.py").read_text()
        )
        child.expect("7/8 exercises passed")
        child.expect("Exercise 2")
        child.expect("Watching")

        child.send("l")
        child.expect(r"scalar_grad[^\n]*passed[^\n]*10/10")

        child.send("q")
        child.expect("Stopped watching")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    output = seen.getvalue()
    assert "Traceback" not in output
    assert "\x1b[32m" in output  # colour on a terminal
    state = json.loads((folder / STATE_FILE).read_text())
    assert state["exercises"]["scalar_grad"]["state"] == "passed"


def test_manual_mode_checks_again_on_enter_without_colour(tmp_path: Path) -> None:
    solved = [ex.file for ex in registry.EXERCISES if ex.name != "vector_grad"]
    folder = folder_with(tmp_path, solved)  # both units: all sixteen
    child, seen = spawn_watch(folder, "--manual", no_color=True)
    try:
        child.expect("15/16 exercises passed")
        child.expect("press Enter")
        shutil.copy(SOLUTIONS / "ex02_vector_grad.py", folder / "ex02_vector_grad.py")
        child.send("\r")
        child.expect("16/16 exercises passed")
        child.expect("All 16 exercises pass")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    output = seen.getvalue()
    assert "\x1b[3" not in output and "\x1b[1m" not in output  # NO_COLOR: no colour, no bold
