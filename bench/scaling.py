"""How ``grade batch`` scales with cores, on CPU and on a GPU.

    .venv/bin/python bench/scaling.py                     # 320 submissions, CPU
    .venv/bin/python bench/scaling.py -n 200 --device cuda

Writes N submissions (copies of solutions/, every tenth with one wrong exercise)
and grades them twice on this machine, side by side: pinned to two cores with
``--jobs 2`` (``taskset``), and with every core (``--jobs`` = cores). It prints
submissions per second for both and their ratio against the ideal (cores / 2),
and checks every grade (correct submissions at full marks, the others not).

Targets (issue 11): on 16 cores, at least 0.7 x 8 times the 2-core throughput;
with ``--device cuda``, a class of 200 in under 60 s.
"""

from __future__ import annotations

import argparse
import csv
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

WRONG = "def vector_grad(f, x):\n    return x\n"


def make_class(folder: Path, n: int) -> set[str]:
    wrong = set()
    folder.mkdir(parents=True)
    for i in range(n):
        student = f"s{i:04d}"
        copy_unit(ROOT / "solutions", folder / student, unit=1)
        if i % 10 == 3:
            (folder / student / "ex02_vector_grad.py").write_text(WRONG)
            wrong.add(student)
    return wrong


def batch(klass: Path, out: Path, jobs: int, device: str, pin: str | None) -> float:
    cmd = [GRADE, "batch", str(klass), "--out", str(out), "--jobs", str(jobs)]
    cmd += ["--device", device, "--seed", "1"]
    if pin:
        cmd = ["taskset", "-c", pin, *cmd]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"grade batch failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return took


def check(out: Path, wrong: set[str]) -> list[str]:
    problems = []
    with (out / "grades.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            full = row["total"] == row["max_total"]
            if full == (row["student"] in wrong):
                problems.append(f"{row['student']}: {row['total']}/{row['max_total']}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=320)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only-all", action="store_true", help="skip the 2-core run")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    klass = work / "class"
    wrong = make_class(klass, args.n)
    runs: dict[str, float] = {}
    problems: list[str] = []
    if not args.only_all and shutil.which("taskset") and cores > 2:
        runs["2 cores"] = batch(klass, work / "two", 2, args.device, "0,1")
        problems += check(work / "two", wrong)
    runs[f"{cores} cores"] = batch(klass, work / "all", cores, args.device, None)
    problems += check(work / "all", wrong)
    shutil.rmtree(work, ignore_errors=True)
    print(f"grade batch, {args.n} submissions, --device {args.device}, {cores} cores")
    for name, took in runs.items():
        print(f"  {name:>9}: {took:6.1f} s, {args.n / took:6.1f} submissions/s")
    if len(runs) == 2:
        two, every = runs["2 cores"], runs[f"{cores} cores"]
        ideal = cores / 2
        print(
            f"  speed-up {two / every:.2f}x on {cores} cores against 2 "
            f"({two / every / ideal:.2f} of the ideal {ideal:g}x; target 0.7)"
        )
    print("grades: " + ("all as expected" if not problems else "WRONG: " + "; ".join(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
