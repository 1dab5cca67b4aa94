"""The grader's memory while it grades a large class: it must stay flat.

    .venv/bin/python bench/memory.py            # 1,000 submissions
    .venv/bin/python bench/memory.py -n 300

Writes N submissions (copies of solutions/, every tenth with a wrong exercise),
runs ``grade batch`` on them and samples, four times a second, the resident
memory of the batch process and of every process below it (chunk processes,
zygotes, workers). Grading ends when the batch starts writing its results (the
``--out`` folder appears); it prints the peaks of each quarter of the grading
(flat means the last quarter holds no more than the first), then the peak while
the reports, the summary and the plot are written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from klass import copy_unit, grade_command  # noqa: E402

GRADE = grade_command()

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / (1 << 20)
    except (OSError, ValueError, IndexError):
        return 0.0


def descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                found += kids
                stack += kids
        except OSError:
            continue
    return found


def make_class(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        target = folder / f"s{i:04d}"
        copy_unit(ROOT / "solutions", target, unit=1)
        if i % 10 == 3:
            (target / "ex02_vector_grad.py").write_text("def vector_grad(f, x):\n    return x\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    klass = work / "class"
    make_class(klass, args.n)
    samples: list[tuple[float, float, float]] = []  # time, batch process, whole tree
    writing: list[tuple[float, float, float]] = []  # the same, once results are written
    out = work / "out"
    started = time.monotonic()
    proc = subprocess.Popen(
        [GRADE, "batch", str(klass), "--out", str(out), "--seed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    while proc.poll() is None:
        own = rss_mb(proc.pid)
        tree = own + sum(rss_mb(p) for p in descendants(proc.pid))
        (writing if out.exists() else samples).append((time.monotonic() - started, own, tree))
        time.sleep(0.25)
    wall = time.monotonic() - started
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"grade batch failed ({proc.returncode}):\n{err[-2000:]}")
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    shutil.rmtree(work, ignore_errors=True)
    print(f"{args.n} submissions in {wall:.1f} s ({args.n / wall:.1f}/s), {os.cpu_count()} cores")
    print(f"grades.csv: {len(rows)} rows")
    peak_own = max(s[1] for s in samples + writing)
    peak_tree = max(s[2] for s in samples + writing)
    print(f"peak resident memory: batch process {peak_own:.0f} MB, whole tree {peak_tree:.0f} MB")
    graded = samples[-1][0] if samples else 0.0
    quarters = []
    for q in range(4):
        part = [s for s in samples if q * graded / 4 <= s[0] <= (q + 1) * graded / 4]
        if part:
            quarters.append((max(s[1] for s in part), max(s[2] for s in part)))
    shown = ", ".join(f"{own:.0f}/{tree:.0f}" for own, tree in quarters)
    print(f"while grading ({graded:.1f} s), peak per quarter (batch process/tree, MB): {shown}")
    if len(quarters) == 4:
        growth = quarters[3][0] - quarters[0][0]
        print(f"batch process, last quarter of the grading against the first: {growth:+.0f} MB")
    if writing:
        print(
            f"writing grades.csv, reports, summary and plot ({wall - graded:.1f} s): "
            f"batch process peak {max(s[1] for s in writing):.0f} MB"
        )


if __name__ == "__main__":
    main()
