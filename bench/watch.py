"""How quickly ``grade watch`` answers a save.

    .venv/bin/python bench/watch.py              # 10 saves, and 20 re-gradings
    .venv/bin/python bench/watch.py --saves 20

Two figures, each the median of several runs:

1. **Save to screen**: ``grade watch`` runs in a real pseudo-terminal on a copy
   of the stubs (exercise 1 solved). The bench saves exercise 2 the way editors
   do (a new file renamed over the old one), alternating a wrong and a right
   version, and times until the refreshed screen shows the new verdict.
2. **Re-grade one exercise**: what watch does after a save, in this process:
   ``Checker.grade`` of one exercise with the session's warm sandbox.

Targets (issue 11): at most 0.3 s and 0.15 s. Timings depend on the machine and
its load: say which when you quote them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import registry  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from klass import copy_unit  # noqa: E402

from grader.study.checking import Checker  # noqa: E402
from grader.study.folder import LearnerFolder  # noqa: E402

WRONG = "def vector_grad(f, x):\n    return x * {k}\n"


def save_by_rename(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_to_screen(folder: Path, saves: int) -> list[float]:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    child = pexpect.spawn(
        str(Path(sys.executable).parent / "grade"),
        ["watch", str(folder), "--lang", "en"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(60, 160),
    )
    child.expect(r"1/8 exercises passed")  # the first screen
    child.expect(r"h hint")
    target = folder / "ex02_vector_grad.py"
    right = (ROOT / "solutions" / "ex02_vector_grad.py").read_text()
    times = []
    for i in range(saves):
        time.sleep(0.3)  # let the previous screen settle
        good = i % 2 == 0
        started = time.monotonic()
        save_by_rename(target, right if good else WRONG.format(k=i + 2))
        # the refreshed screen: its progress line counts exercise 2 in or out
        child.expect(r"2/8 exercises passed" if good else r"1/8 exercises passed")
        child.expect(r"h hint")
        times.append(time.monotonic() - started)
    child.send("q")
    child.expect(pexpect.EOF)
    return times


def regrade_one(folder: Path, rounds: int) -> list[float]:
    exercise = registry.select(("vector_grad",))
    learner = LearnerFolder(folder)
    times = []
    with Checker() as checker:
        learner.read()
        checker.grade(learner, exercise)  # the session's first grading warms everything
        for _ in range(rounds):
            started = time.monotonic()
            checker.grade(learner, exercise)
            times.append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    folder = work / "ex"
    copy_unit(ROOT / "exercises", folder)  # the first unit: the screen counts 8 exercises
    shutil.copy(ROOT / "solutions" / "ex01_scalar_grad.py", folder / "ex01_scalar_grad.py")
    try:
        screen = save_to_screen(folder, args.saves)
        shutil.copy(ROOT / "solutions" / "ex02_vector_grad.py", folder / "ex02_vector_grad.py")
        regrade = regrade_one(folder, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(
        f"save to refreshed screen: median {statistics.median(screen):.3f} s "
        f"(min {min(screen):.3f}, max {max(screen):.3f}; {len(screen)} saves) "
        f"target 0.3 s: {statistics.median(screen) / 0.3:.2f}x"
    )
    print(
        f"re-grade one exercise:    median {statistics.median(regrade):.3f} s "
        f"(min {min(regrade):.3f}, max {max(regrade):.3f}; {len(regrade)} rounds) "
        f"target 0.15 s: {statistics.median(regrade) / 0.15:.2f}x"
    )


if __name__ == "__main__":
    main()
