"""Hostile submissions (tests/hostile/) against the installed ``grade`` command.

Each round puts one attack into each of up to eight exercise files of a copy of
the reference solutions (or of the stubs) and runs ``grade --format json`` on it.
After every round the test checks:

- the score, status and feedback of every exercise: an attack costs only its
  own exercise, or only the check its cheat aimed at;
- that ``grade`` exited 0 within a bounded time and printed exactly one JSON
  object, whatever the attacks printed;
- that no process an attack started is still alive;
- that nothing outside the grader's scratch folders changed: the submission,
  a canary file beside it, the folder around it, the installed grader package,
  torch's own files, the machine's shared temporary folders and System V IPC.

The text attacks (``TEXT_ATTACKS``: what learners' code says, issue 9) are also
graded in every ``--format``, and with hostile folder, notebook and path names.

The folder around each submission is world-readable, as a learner's home often
is, so that file permissions (not a private path) are what protect it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import ALL_POINTS, EXERCISES, SOLUTIONS, copy_units, grade_command, unsafe_chars

import grader
from grader import registry
from grader.report import FORMATS

HOSTILE = Path(__file__).parent / "hostile"
PACKAGE = Path(grader.__file__).parent
TORCH_FILES = [Path(torch.__file__), Path(torch.__file__).parent / "version.py"]
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")
# HOSTILE_DEVICE=cuda runs the same attacks with the hidden inputs on a GPU
# (scripts/gpu-check.sh); CUDA workers start slower and hold more memory.
DEVICE = os.environ.get("HOSTILE_DEVICE", "cpu")
TIMEOUT = "3" if DEVICE == "cpu" else "10"  # seconds per exercise: each hang costs this
MEMORY = "128" if DEVICE == "cpu" else "1024"  # MB: small, so memory attacks hit it fast
BOUND = 90  # seconds a whole round may take, attacks included
ROOT = os.getuid() == 0
root_only = pytest.mark.skipif(
    not ROOT,
    reason="only a root grader runs learners' code as another user (README: SECURITY)",
)
FILES = {ex.file[:4]: ex for ex in registry.EXERCISES}  # "ex01" -> exercise


@dataclass(frozen=True)
class Expect:
    """What one exercise's entry in the report must say."""

    score: float | None = 10.0  # None: only that the checks in ``failed`` failed
    status: str = "ok"  # "a|b": either
    says: str = ""  # text the feedback must contain ("a|b": either)
    failed: tuple[str, ...] = ()  # checks the attack's cheat aimed at


FULL = Expect()


def zero(status: str, says: str) -> Expect:
    return Expect(0.0, status, says)


def cheat_fails(*checks: str, says: str = "") -> Expect:
    return Expect(None, "ok", says, checks)


# Learners' text (issue 9): the status of each attack's exercise and what its feedback
# shows in every format: lone surrogates as U+FFFD, no NUL, control characters escaped.
TEXT_ATTACKS: dict[str, tuple[str, str]] = {
    "ex01_surrogate_message.py": ("ok", "ValueError: lone \ufffd surrogate and NUL here"),
    "ex02_huge_message.py": ("ok", "RuntimeError: AAAAAAAA"),
    "ex03_draws_fake_pass.py": ("ok", "AssertionError: \\x1b[2J\\x1b[H✓ partial_grads"),
    "ex04_hostile_exception_type.py": ("ok", "Boom\\x1b[31m\\r\\u202exxxx"),
    "ex05_hostile_result_type.py": ("ok", "mod\\x1b]0;title\\x07.Fake\ufffd"),
    "ex06_hostile_defined_names.py": ("missing_function", "fresh\\x1b[2J\\x1b[H_grads\ufffd"),
    "ex07_forges_answer.py": ("import_error", "Forged\\x1b[2J\ufffd: clear\\x1b[H\\r✓ 80/80"),
    "ex08_invisible_controls.py": ("ok", "\\x9b2J\\x850/10\\x08"),
}
ROUNDS: dict[str, dict[str, Expect]] = {
    "ending the process": {
        "ex01_sys_exit_at_import.py": zero("import_error", "SystemExit"),
        "ex02_os_exit_in_call.py": zero("exited", "exit code 0"),
        "ex03_keyboard_interrupt.py": zero("ok", "KeyboardInterrupt"),
        "ex04_base_exception_at_import.py": zero("import_error", "Boom"),
        "ex05_del_and_atexit.py": FULL,
        "ex06_abort.py": zero("crashed", "SIGABRT"),
        # Python 3.12+ guards the C stack itself and raises RecursionError instead
        "ex07_deep_recursion.py": zero("crashed|ok", ""),
        "ex08_system_exit_in_call.py": zero("ok", "sys.exit(0)"),
    },
    "hanging and exhausting": {
        "ex01_busy_loop_at_import.py": zero("timeout", "timed out"),
        "ex02_ignores_signals_sleeps.py": zero("timeout", "timed out"),
        "ex03_blocking_c_call.py": zero("timeout", "timed out"),
        "ex04_swallows_every_signal.py": zero("timeout", "timed out"),
        "ex05_memory_growth.py": zero("memory", "memory limit"),
        "ex06_fork_bomb.py": Expect(0.0, "", ""),  # memory, timeout or crash: all end it
        "ex07_setsid_daemons.py": FULL,
        "ex08_thread_outlives_call.py": zero("threads", "thread"),
    },
    "faking": {
        "ex01_lying_subclass.py": cheat_fails("values", "type", says="Liar"),
        "ex02_patches_comparisons.py": cheat_fails("values"),
        "ex03_mode_hides_graph.py": cheat_fails("side_effects", says="grad"),
        "ex04_patches_grader.py": cheat_fails("values", says="no_grad"),
        "ex05_pickle_reduce.py": cheat_fails("values", says="Payload"),
        "ex06_patches_torch_equal.py": cheat_fails("side_effects", says="x.grad"),
        "ex07_replaces_probe.py": cheat_fails("side_effects", says="in place"),
        "ex08_mode_fakes_alias.py": cheat_fails("values", says="memory"),
        "ex16_pickle_payload.py": cheat_fails("values", says="not a tensor"),
    },
    "stealing and flooding": {
        "ex01_predicts_inputs.py": cheat_fails("values"),
        "ex02_floods_output.py": FULL,
        "ex04_exhausts_fds.py": FULL,
        "ex05_steals_references.py": cheat_fails("values"),
        "ex08_claims_equality.py": cheat_fails("values", "type", says="Everything"),
    },
    "hostile text": {file: zero(status, said) for file, (status, said) in TEXT_ATTACKS.items()},
}
# Attacks on files and processes outside the sandbox. Only a root grader runs
# learners' code as a user of its own, whom file permissions and kill(2) stop;
# as an ordinary user these would really change files and kill processes.
ROOT_ROUNDS: dict[str, dict[str, Expect]] = {
    "tampering": {
        "ex03_fills_disk.py": FULL,
        "ex06_tampers_beside.py": FULL,
        "ex07_tampers_grader.py": FULL,
        "ex08_patches_allclose.py": cheat_fails("values", says="memory"),
    },
}


# -- one round: build, run, check ----------------------------------------------------


@dataclass
class Round:
    base: Path  # BASE in tests/hostile/README.md
    submission: Path
    report: dict
    stderr: str

    def exercises(self) -> dict[str, dict]:
        return {e["name"]: e for e in self.report["exercises"]}


@pytest.fixture
def base() -> Iterator[Path]:
    """A world-readable folder holding the submission and a canary file."""
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.chmod(0o755)
    (folder / "canary.txt").write_text("the grader must not change this file\n")
    (folder / "canary.txt").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def build(
    base: Path, attacks: list[str], *, start: Path = SOLUTIONS, units: tuple[int, ...] = ()
) -> Path:
    """``start``'s files (of ``units``; all when none) with the attacks named in place."""
    submission = copy_units(start, base / "submission", units)
    for attack in attacks:
        shutil.copyfile(HOSTILE / attack, submission / FILES[attack[:4]].file)
    return submission


def run_round(base: Path, submission: Path, *extra: str, cwd: Path | None = None) -> Round:
    """Run ``grade`` and check everything that must hold whatever the attacks were."""
    before = snapshot(base)
    proc = grade(submission, "--format", "json", "--timeout", TIMEOUT, "--memory", MEMORY,
                 "--device", DEVICE, *extra, cwd=cwd or base)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not unsafe_chars(proc.stdout), unsafe_chars(proc.stdout)[:20]
    report = json.loads(proc.stdout)  # exactly one JSON object, nothing else
    assert set(report) >= {"score", "max_score", "exercises"}
    assert "✓ scalar_grad 10/10" not in proc.stderr  # what the attacks printed
    assert not leftover_processes(str(submission)), "processes outlived the run"
    assert snapshot(base) == before, "a file outside the scratch folders changed"
    return Round(base, submission, report, proc.stderr)


def grade(submission: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [grade_command(), str(submission), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=BOUND,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade did not finish within {BOUND} s")


def check_scores(result: Round, expected: dict[str, Expect]) -> None:
    entries = result.exercises()
    targeted = {FILES[name[:4]].name: want for name, want in expected.items()}
    for ex in registry.EXERCISES:
        entry = entries[ex.name]
        want = targeted.get(ex.name, FULL)
        where = f"{ex.name}: {entry}"
        checks = {c["name"]: c for c in entry["checks"]}
        if want.score is not None:
            assert entry["score"] == want.score, where
        if want.status:
            assert entry["status"] in want.status.split("|"), where
        assert any(says in entry["feedback"] for says in want.says.split("|")), where
        for name in want.failed:
            assert not checks[name]["passed"] and checks[name]["score"] == 0, where
        if want.failed:
            assert not entry["passed"] and entry["score"] < entry["max_score"], where
        if want is FULL:
            assert entry["passed"] and entry["score"] == entry["max_score"], where
    assert report_total(result.report) == result.report["score"]


def report_total(report: dict) -> float:
    return round(sum(e["score"] for e in report["exercises"]), 6)


# -- what must not change -----------------------------------------------------------


def snapshot(base: Path) -> dict[str, object]:
    """Hashes of everything an attack might change outside the scratch folders.

    The grader package is the working tree others may be editing while the tests
    run, so it is not hashed: instead no file in it may hold the submission's
    path (attacks write it into what they change) or belong to a sandbox user.
    """
    return {
        "around the submission": tree_hash(base),
        "grader package": marked_files(PACKAGE, str(base / "submission")),
        "grader package owners": sandbox_owned(PACKAGE),
        "torch": [file_hash(p) for p in TORCH_FILES],
        "shared temp": sorted(
            f"{d}/{n}" for d in SHARED_TEMP for n in os.listdir(d) if base.name in n
        ),
        "sysv ipc": sandbox_ipc(),
    }


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest.update(f"{path.relative_to(root)} {info.st_mode:o} {info.st_uid}\n".encode())
        if path.is_file() and not path.is_symlink() and info.st_mode & 0o444:
            digest.update(file_hash(path).encode())
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marked_files(root: Path, token: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]


def sandbox_owned(root: Path) -> list[str]:
    """Files under ``root`` that a sandbox user made (``__pycache__`` included)."""
    return [str(p) for p in root.rglob("*") if 61000 <= p.lstat().st_uid < 65000]


def sandbox_ipc() -> list[str]:
    found = []
    for kind in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{kind}") as fh:
            header, *rows = fh.read().splitlines()
        for row in rows:
            fields = dict(zip(header.split(), row.split(), strict=False))
            if 61000 <= int(fields["uid"]) < 65000:
                found.append(f"{kind} {row}")
    return found


def leftover_processes(token: str) -> list[str]:
    """Live processes whose command line or environment holds ``token``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    continue
            blobs = [Path(f"/proc/{pid}/cmdline").read_bytes()]
            try:
                blobs.append(Path(f"/proc/{pid}/environ").read_bytes())
            except OSError:
                pass
        except OSError:
            continue
        if any(token.encode() in blob for blob in blobs):
            found.append(f"{pid}: {blobs[0][:200]!r}")
    return found


# -- the rounds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ROUNDS))
def test_round(base: Path, name: str) -> None:
    attacks = ROUNDS[name]
    result = run_round(base, build(base, list(attacks)))
    check_scores(result, attacks)
    assert not list(base.glob("PWNED-*"))


@root_only
@pytest.mark.parametrize("name", list(ROOT_ROUNDS))
def test_root_round(base: Path, name: str) -> None:
    attacks = ROOT_ROUNDS[name]
    result = run_round(base, build(base, list(attacks)))
    check_scores(result, attacks)
    assert not list(base.glob("PWNED-*"))


def test_bad_input_files_are_refused_before_anything_runs(base: Path) -> None:
    """Files the grader must not run or must not even open: bytes that are not UTF-8,
    NUL bytes, a syntax error, a link to a (correct) file outside the submission,
    a FIFO (opening it would block), a file over the size cap, a folder, a link
    loop; plus pickles whose loading would run code."""
    submission = build(base, [])
    solution = (SOLUTIONS / "ex06_zero_grad.py").read_text()
    files = {ex.file[:4]: submission / ex.file for ex in registry.EXERCISES}
    files["ex01"].write_bytes(b"# caf\xe9\n" + (SOLUTIONS / "ex01_scalar_grad.py").read_bytes())
    files["ex02"].write_bytes(b"\x00" + (SOLUTIONS / "ex02_vector_grad.py").read_bytes())
    files["ex03"].write_text("def partial_grads(f, *xs)\n    return xs\n")
    files["ex04"].unlink()
    files["ex04"].symlink_to(SOLUTIONS / "ex04_no_grad.py")
    files["ex05"].unlink()
    os.mkfifo(files["ex05"])
    files["ex06"].write_text(solution + "#" * (2 << 20) + "\n")
    files["ex07"].unlink()
    files["ex07"].mkdir()
    files["ex08"].unlink()
    files["ex08"].symlink_to(submission / "loop.py")
    (submission / "loop.py").symlink_to(files["ex08"])
    payload = (
        b"cos\nsystem\n(S'touch " + str(base / "PWNED-pickle").encode() + b"'\ntR."
    )  # pickle protocol 0: os.system("touch ...")
    for name in ("answer.pkl", "ex05_accumulate.pt", "results.pkl"):
        (submission / name).write_bytes(payload)
    result = run_round(base, submission)
    check_scores(
        result,
        {
            "ex01": zero("unreadable_file", "UTF-8"),
            "ex02": zero("unreadable_file", "NUL"),
            "ex03": zero("import_error", "SyntaxError"),
            "ex04": zero("unreadable_file", "outside"),
            "ex05": zero("unreadable_file", "not a regular file"),
            "ex06": zero("unreadable_file", "larger"),
            "ex07": zero("unreadable_file", "not a regular file"),
            "ex08": zero("unreadable_file", "link"),
        },
    )
    assert not list(base.glob("PWNED-*"))


def test_planted_files_never_run(base: Path) -> None:
    """A conftest.py, sitecustomize.py, usercustomize.py, torch.py, numpy.py, a
    grader/ package, a pytest.ini and a fake results.json beside the stubs, with
    ``grade`` started from inside that folder. Had any of them run, a file would
    appear beside the folder or an exercise would show exit code 97 or points."""
    submission = build(base, [], start=EXERCISES)
    for planted in (HOSTILE / "planted").rglob("*.planted"):
        target = submission / planted.relative_to(HOSTILE / "planted").with_suffix("")
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(planted, target)
    result = run_round(base, submission, cwd=submission)
    for entry in result.report["exercises"]:
        assert entry["score"] == 0 and entry["status"] == "ok", entry
        assert "NotImplementedError" in entry["feedback"], entry
    assert not list(base.glob("PWNED-*"))


def test_text_report_names_the_limit(base: Path) -> None:
    """The text report says which limit ended an exercise."""
    submission = build(base, ["ex02_ignores_signals_sleeps.py", "ex05_memory_growth.py"])
    proc = grade(
        submission, "--only", "vector_grad", "--only", "accumulated_grad",
        "--timeout", TIMEOUT, "--memory", MEMORY, "--device", DEVICE, cwd=base,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    vector = "\n".join(lines[lines.index(next(x for x in lines if "vector_grad" in x)) :][:3])
    accumulated = "\n".join(
        lines[lines.index(next(x for x in lines if "accumulated_grad" in x)) :][:3]
    )
    assert "timed out" in vector and "0/10" in vector
    assert "memory limit" in accumulated and "0/10" in accumulated
    assert not leftover_processes(str(submission))


def test_overall_limit_per_submission(base: Path) -> None:
    """``--total-timeout`` bounds the whole submission; the report says that limit
    (not the exercise's own) ended the exercise."""
    submission = build(base, ["ex02_ignores_signals_sleeps.py"])
    result = run_round(base, submission, "--only", "vector_grad", "--total-timeout", "1")
    (entry,) = result.report["exercises"]
    assert entry["score"] == 0 and entry["status"] == "timeout"
    assert "whole submission" in entry["feedback"] and "1 s" in entry["feedback"]


# -- learners' text in every output (issue 9) ----------------------------------------


def grade_bytes(
    *args: str | bytes | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``grade ARGS`` with its output as bytes, so that the test decodes it strictly."""
    try:
        return subprocess.run(
            [grade_command(), *(a if isinstance(a, bytes) else str(a) for a in args)],
            capture_output=True,
            cwd=cwd,
            env=env,
            timeout=BOUND,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade did not finish within {BOUND} s")


def shown_per_exercise(fmt: str, out: str) -> dict[str, str]:
    """Exercise name -> everything the report in ``fmt`` says about it."""
    if fmt == "json":
        report = json.loads(out)
        return {
            e["name"]: "\n".join([e["feedback"], *(c["feedback"] for c in e["checks"])])
            for e in report["exercises"]
        }
    if fmt == "gradescope":
        report = json.loads(out)
        return {t["name"].split(":")[0]: t["output"] for t in report["tests"]}
    if fmt == "junit":
        shown: dict[str, str] = {}
        for case in ET.fromstring(out).iter("testcase"):
            for failure in case:
                said = f"{failure.get('message')}\n{failure.text}"
                shown[case.get("classname", "")] = shown.get(case.get("classname", ""), "") + said
        return shown
    blocks: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith(("✓ ", "✗ ")):
            name = line.split()[1]
        if name:
            blocks[name] = blocks.get(name, "") + line + "\n"
    return blocks


@pytest.mark.parametrize("fmt", FORMATS)
def test_learners_text_reaches_every_format_safely(base: Path, fmt: str) -> None:
    """The text attacks (TEXT_ATTACKS) graded in each ``--format``: grade exits 0, its
    output is valid UTF-8 that parses (JSON, XML) and holds no character a terminal
    would act on, and each attack's text shows, cut, cleaned and escaped."""
    submission = build(base, list(TEXT_ATTACKS), units=(1,))  # every file of unit 1 attacks
    proc = grade_bytes(
        submission, "--format", fmt, "--timeout", TIMEOUT, "--memory", MEMORY,
        "--device", DEVICE, cwd=base,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout.decode("utf-8")  # strict: no lone surrogate, no stray byte
    assert not unsafe_chars(out), unsafe_chars(out)[:20]
    assert len(out) < 100_000  # the megabyte message, type name and names are cut
    shown = shown_per_exercise(fmt, out)
    for file, (_, said) in TEXT_ATTACKS.items():
        name = FILES[file[:4]].name
        assert said in shown.get(name, ""), (name, shown.get(name, "")[:1000])
        assert not unsafe_chars(shown[name]), (name, unsafe_chars(shown[name]))
    if fmt == "text":  # no learner text starts a line: it cannot pose as a result
        lines = out.splitlines()
        assert all(re.match(r"[✓✗] \w+ +\d+/10$|    |$", line) for line in lines[:-2]), out
        assert [line for line in lines if line.startswith("Total")] == [lines[-2]]
        assert lines[-2].startswith("Total: 0/80")


def test_json_survives_an_output_that_cannot_encode_it(base: Path) -> None:
    """With a Latin-1 stdout (no ✓, no Chinese, no U+FFFD), what the encoding lacks
    is written as backslash escapes, which JSON reads back: still one valid object."""
    attacks = ["ex01_surrogate_message.py", "ex03_draws_fake_pass.py"]
    submission = build(base, attacks)
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "LANG": "C", "LC_ALL": "C"}
    proc = grade_bytes(
        submission, "--format", "json", "--only", "scalar_grad", "--only", "partial_grads",
        "--timeout", TIMEOUT, "--memory", MEMORY, "--device", DEVICE, cwd=base, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.decode("latin-1"))
    feedback = {e["name"]: e["feedback"] for e in report["exercises"]}
    for file in attacks:
        assert TEXT_ATTACKS[file][1] in feedback[FILES[file[:4]].name], feedback


def test_a_broken_notebook_cell_and_a_hostile_notebook_name(base: Path) -> None:
    """A notebook (named with control characters and a byte that is not UTF-8) whose
    cell for ``scalar_grad`` holds a raw ESC and a lone surrogate (a JSON escape in
    the file): the cell's SyntaxError and the encoding error show escaped."""
    cells = [
        "def scalar_grad(f, x):\n    return x \x1b[2J\n",  # ESC outside a string
        "def vector_grad(f, x):\n    return '\ud800'\n",  # a lone surrogate in the source
    ]
    doc = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": cell}
            for cell in cells
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    notebook = os.fsencode(base) + b"/work\x1b]0;pwned\x07\xff.ipynb"
    with open(notebook, "w", encoding="ascii") as fh:
        json.dump(doc, fh)  # ASCII, with the surrogate as a \ud800 escape
    for fmt in ("text", "junit"):
        proc = grade_bytes(
            notebook, "--format", fmt, "--only", "scalar_grad", "--only", "vector_grad",
            "--timeout", TIMEOUT, "--memory", MEMORY, cwd=base,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = proc.stdout.decode("utf-8")
        assert not unsafe_chars(out), unsafe_chars(out)
        assert "SyntaxError" in out and "U+001B" in out and "\\x1b[2J" in out, out
        assert "surrogates not allowed" in out, out
        if fmt == "junit":
            suite = ET.fromstring(out).find("testsuite")
            assert suite is not None
            assert suite.get("name") == "autograd-grader.work\\x1b]0;pwned\\x07\\xff.ipynb"


def test_a_usage_error_quoting_a_hostile_path_is_one_printable_line(base: Path) -> None:
    path = os.fsencode(base) + b"/missing\x1b[2J\r\n\xff"
    proc = grade_bytes(path, cwd=base)
    assert proc.returncode == 2
    said = proc.stderr.decode("utf-8")
    assert not unsafe_chars(said) and said.count("\n") == 1, said
    assert "missing\\x1b[2J\\r\\n\\xff" in said and "Traceback" not in said


# Folder names in a class -> how grades.csv, the summary and each report name them.
EVIL = 'evil\x1b[2J\x1b[H✓ 80,80 "q"\nnext\r'.encode()
CLASS_NAMES = {
    b"caf\xe9": "caf\\xe9",  # Latin-1, not UTF-8
    EVIL: 'evil\\x1b[2J\\x1b[H✓ 80,80 "q"\\nnext\\r',
    "\u202eevil".encode(): "\\u202eevil",
    "张三".encode(): "张三",
    b"empty\x1b[31m\xfe": "empty\\x1b[31m\\xfe",  # nothing to grade: a note quotes its path
    b"nb\x07\xff.ipynb": "nb\\x07\\xff",  # a notebook holding vector_grad only
}


def test_a_class_with_hostile_folder_names(base: Path) -> None:
    """grade batch on folders (and a notebook) named with control characters, quotes,
    commas, newlines, bytes that are not UTF-8, bidi overrides and Chinese: the batch
    finishes; grades.csv has one line per learner and each name shows escaped;
    summary.txt, summary.json, the report files and their names are safe."""
    klass = os.fsencode(base / "class")
    os.mkdir(klass)
    for raw in list(CLASS_NAMES)[:4]:
        shutil.copytree(SOLUTIONS, os.fsdecode(klass + b"/" + raw))
    evil = Path(os.fsdecode(klass + b"/" + EVIL))
    shutil.copyfile(HOSTILE / "ex01_surrogate_message.py", evil / "ex01_scalar_grad.py")
    os.mkdir(klass + b"/empty\x1b[31m\xfe")
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": (SOLUTIONS / "ex02_vector_grad.py").read_text()}]  # fmt: skip
    doc = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with open(klass + b"/nb\x07\xff.ipynb", "w") as fh:
        json.dump(doc, fh)
    out = base / "grades"
    proc = grade_bytes(
        "batch", klass, "--only", "scalar_grad", "--only", "vector_grad", "--format", "junit",
        "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT, "--memory", MEMORY, cwd=base,
    )  # fmt: skip
    printed = proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")
    assert proc.returncode == 0, printed[-3000:]
    assert not unsafe_chars(printed), unsafe_chars(printed)

    table = (out / "grades.csv").read_text(encoding="utf-8")
    assert not unsafe_chars(table), unsafe_chars(table)
    assert len(table.splitlines()) == 1 + len(CLASS_NAMES)  # one line per learner
    rows = {r["student"]: r for r in csv.DictReader(table.splitlines())}
    assert set(rows) == set(CLASS_NAMES.values()), set(rows)
    assert rows["caf\\xe9"]["total"] == rows["张三"]["total"] == "20"
    assert rows[CLASS_NAMES[EVIL]]["total"] == "10"  # the surrogate message costs scalar_grad
    assert rows["nb\\x07\\xff"]["total"] == "10"
    assert rows["empty\\x1b[31m\\xfe"]["total"] == "0"
    assert "empty\\x1b[31m\\xfe" in rows["empty\\x1b[31m\\xfe"]["note"]

    for file in ("summary.txt", "summary.json"):
        said = (out / file).read_text(encoding="utf-8")
        assert not unsafe_chars(said), (file, unsafe_chars(said))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("lone \ufffd surrogate" in d["example"] for d in summary["diagnoses"]), summary
    reports = sorted((out / "reports").iterdir())
    assert len(reports) == len(CLASS_NAMES)
    for report in reports:
        assert re.fullmatch(r"[\w.@+-]+\.xml", report.name), report.name
        suite = ET.fromstring(report.read_text(encoding="utf-8")).find("testsuite")
        assert suite is not None and suite.get("name", "").removeprefix("autograd-grader.") in rows


@root_only
def test_killing_everyone_harms_no_one_else(base: Path) -> None:
    """A submission that sends SIGKILL to every process its user may signal, to the
    grader's zygote and to its process group, graded while another grader grades
    the reference solutions beside it: the honest grader gets full marks."""
    attacks = {
        # its own PID namespace holds no one else to kill; without one, kill(2) refuses
        "ex07_kills_everyone.py": zero("ok", "ProcessLookupError|PermissionError"),
        "ex06_fork_bomb.py": Expect(0.0, "", ""),
    }
    submission = build(base, list(attacks))
    honest_base = Path(tempfile.mkdtemp(prefix="hostile-honest-"))
    honest: dict = {}

    def grade_honest() -> None:
        proc = grade(SOLUTIONS, "--format", "json", "--timeout", "20", "--device", DEVICE,
                     cwd=honest_base)  # fmt: skip
        honest.update(json.loads(proc.stdout))

    try:
        beside = threading.Thread(target=grade_honest)
        beside.start()
        time.sleep(0.5)
        result = run_round(base, submission)
        beside.join()
    finally:
        shutil.rmtree(honest_base, ignore_errors=True)
    check_scores(result, attacks)
    assert honest["score"] == honest["max_score"] == ALL_POINTS  # solutions/: every unit


@pytest.mark.cuda
@pytest.mark.skipif(DEVICE != "cuda", reason="needs HOSTILE_DEVICE=cuda and a CUDA device")
def test_gpu_memory_is_given_back(base: Path) -> None:
    """A process that holds GPU memory in a session of its own is killed with the run,
    and the GPU memory it held is free again when ``grade`` has finished."""
    free_before, _ = torch.cuda.mem_get_info()
    result = run_round(base, build(base, ["ex02_hogs_gpu.py"]))
    check_scores(result, {"ex02_hogs_gpu.py": FULL})
    free_after, _ = torch.cuda.mem_get_info()
    assert free_after > free_before - (1 << 30)
