"""Whole-class grading, timed side by side on the same synthetic class.

    .venv/bin/python bench/classroom.py                  # 200 submissions
    .venv/bin/python bench/classroom.py -n 60 --sample 5
    .venv/bin/python bench/classroom.py --keep /tmp/klass  # keep the class folder

It writes N submissions (about half all correct, the rest copies of solutions/
with one to three exercises replaced by a typical mistake; one that hangs and
one that kills its own process), then times:

1. ``grade batch`` on all N (one command, wall clock, start-up included), and
   beside it the warm-checks floor: the hidden checks alone, in a warm process,
   on the same N submissions' results (what grading would cost if running the
   learners' code were free);
2. plain ``grade SUB --format json``, once per submission (a sample, extrapolated);
3. a fresh ``python -m pytest`` per submission running a plain test file that
   imports the learner's modules (the usual home-made autograder; a sample);
4. ``nbgrader autograde`` on the same code as notebooks, when nbgrader is
   installed (a sample of the class: it runs one kernel per notebook);
5. ``python -c "import torch"`` against ``grade solutions/`` (the floor).

It prints seconds per submission and the ratios, and checks that the batch gave
every correct submission full marks and the hang and the self-killer 70.
Timings depend on the machine: say which one when you quote them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from grader import registry  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from klass import UNIT, copy_unit, grade_command  # noqa: E402

GRADE = grade_command()

# Typical mistakes: (file, text in the reference solution, what a learner wrote instead).
MISTAKES = [
    ("ex01_scalar_grad.py",
     "    y.backward()  # dy/dx lands in x.grad\n    return x.grad", "    return y"),
    ("ex02_vector_grad.py", "f(x).sum()", "f(x).mean()"),
    ("ex03_partial_grads.py", "torch.zeros_like(x) if g is None else g", "g"),
    ("ex04_no_grad.py", "with torch.no_grad():", "if True:"),
    ("ex05_accumulate.py",
     "    for _ in range(times):\n", "    x.grad = None\n    for _ in range(times):\n"),
    ("ex06_zero_grad.py", "x.grad.clone()", "x.grad"),
    ("ex07_manual_update.py", "p -= lr * p.grad", "p += lr * p.grad"),
    ("ex08_detach.py", "x.detach()", "x.detach().clone()"),
]  # fmt: skip
HANG = "def scalar_grad(f, x):\n    while True:\n        pass\n"
KILLER = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"

# A plain home-made autograder: one pytest file, the learner's modules imported directly.
PLAIN_TESTS = """
import importlib.util, os, pathlib
import torch

SUB = pathlib.Path(os.environ["SUBMISSION"])

def load(stem, name):
    spec = importlib.util.spec_from_file_location(stem, SUB / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)

def f(x):
    return torch.sin(x) * x + x ** 3

def df(x):
    return torch.cos(x) * x + torch.sin(x) + 3 * x ** 2

def test_scalar_grad():
    x = torch.tensor(0.7)
    assert torch.allclose(load("ex01_scalar_grad", "scalar_grad")(f, x), df(x))

def test_vector_grad():
    x = torch.randn(5)
    assert torch.allclose(load("ex02_vector_grad", "vector_grad")(f, x), df(x))

def test_partial_grads():
    a, b = torch.randn(3), torch.randn(3)
    ga, gb = load("ex03_partial_grads", "partial_grads")(lambda a, b: a * b, a, b)
    assert torch.allclose(ga, b) and torch.allclose(gb, a)

def test_evaluate_without_grad():
    x = torch.randn(4, requires_grad=True)
    y = load("ex04_no_grad", "evaluate_without_grad")(f, x)
    assert not y.requires_grad and torch.allclose(y, f(x.detach()))

def test_accumulated_grad():
    x = torch.randn(4)
    g = load("ex05_accumulate", "accumulated_grad")(f, x.requires_grad_(), 3)
    assert torch.allclose(g, 3 * df(x.detach()))

def test_fresh_grads():
    x = torch.randn(3, requires_grad=True)
    gs = load("ex06_zero_grad", "fresh_grads")([lambda x: x * 2, lambda x: x * 3], x)
    assert torch.allclose(gs[0], torch.full((3,), 2.0))
    assert torch.allclose(gs[1], torch.full((3,), 3.0))

def test_gradient_descent():
    w = torch.tensor([1.0], requires_grad=True)
    (w2,) = load("ex07_manual_update", "gradient_descent")(lambda w: w ** 2, [w], 0.1, 1)
    assert torch.allclose(w2, torch.tensor([0.8]))

def test_detach_alias():
    x = torch.randn(3, requires_grad=True)
    y = load("ex08_detach", "detach_alias")(x)
    assert y.data_ptr() == x.data_ptr() and not y.requires_grad
"""


def make_class(folder: Path, n: int, seed: int) -> dict[str, set[str]]:
    """Write n submissions; returns student -> files with a mistake."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    wrong: dict[str, set[str]] = {}
    for i in range(n):
        student = f"s{i:04d}"
        copy_unit(SOLUTIONS, folder / student)
        chosen: list[tuple[str, str, str]] = []
        if i == 1:
            (folder / student / "ex01_scalar_grad.py").write_text(HANG)
            wrong[student] = {"ex01_scalar_grad.py"}
            continue
        if i == 2:
            (folder / student / "ex02_vector_grad.py").write_text(KILLER)
            wrong[student] = {"ex02_vector_grad.py"}
            continue
        if i % 2:
            chosen = rng.sample(MISTAKES, rng.randint(1, 3))
        for file, old, new in chosen:
            path = folder / student / file
            text = path.read_text()
            assert old in text, (file, old)
            path.write_text(text.replace(old, new))
        wrong[student] = {file for file, _, _ in chosen}
    return wrong


@dataclass
class Cost:
    """Wall-clock seconds, and CPU seconds of the command and everything it started
    (less sensitive than wall time to other work on a shared machine)."""

    wall: float
    cpu: float

    def __truediv__(self, n: float) -> Cost:
        return Cost(self.wall / n, self.cpu / n)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], **kw: object) -> tuple[Cost, subprocess.CompletedProcess]:
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    return Cost(time.perf_counter() - started, _children_cpu() - cpu), proc


def mean_cost(costs: list[Cost]) -> Cost:
    return Cost(statistics.mean(c.wall for c in costs), statistics.mean(c.cpu for c in costs))


def bench_batch(klass: Path, out: Path, jobs: int | None) -> tuple[Cost, dict[str, dict]]:
    cmd = [GRADE, "batch", str(klass), "--out", str(out), "--seed", "1"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    cost, proc = timed(cmd)
    if proc.returncode != 0:
        sys.exit(f"grade batch failed:\n{proc.stderr}")
    with (out / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return cost, rows


def bench_checks_floor(subs: list[Path]) -> float:
    """CPU seconds per submission of the hidden checks alone, in this warm process:
    the learners' code is run once in the sandbox, then only the checks are timed."""
    from grader.checks.plugin import run_checks
    from grader.checks.run import ExerciseRun
    from grader.grading import draw_cases
    from grader.runner.execute import Job, Limits, Sandbox
    from grader.submission import load

    exercises = tuple(ex for ex in registry.EXERCISES if ex.unit == UNIT)  # what the class has
    cases = {ex.name: draw_cases(ex, 1, "cpu") for ex in exercises}
    runs = []
    with Sandbox(Limits()) as box:
        for sub in subs:
            loaded = load(sub, exercises)
            jobs = [
                Job(ex, src.text, src.filename, cases[ex.name], src.problem, sub.name)
                for ex in exercises
                for src in [loaded.sources[ex.file]]
            ]
            for job, outcome in zip(jobs, box.run_all(jobs), strict=True):
                runs.append(ExerciseRun(sub.name, job.exercise, job.cases, outcome, job.source))
    run_checks(runs)  # warm: imports, and the references every submission shares
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        run_checks(runs)
        best = min(best, time.process_time() - started)
    return best / len(subs)


def bench_plain_grade(subs: list[Path]) -> Cost:
    costs = []
    for sub in subs:
        cost, proc = timed([GRADE, str(sub), "--format", "json", "--seed", "1"])
        assert proc.returncode == 0, proc.stderr
        costs.append(cost)
    return mean_cost(costs)


def bench_fresh_pytest(subs: list[Path], work: Path) -> Cost:
    test_file = work / "test_plain.py"
    test_file.write_text(PLAIN_TESTS)
    costs = []
    for sub in subs:
        env = {**os.environ, "SUBMISSION": str(sub)}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)]
        cost, _ = timed(cmd, env=env, cwd=work, timeout=120)
        costs.append(cost)
    return mean_cost(costs)


def bench_nbgrader(subs: list[Path], work: Path) -> Cost | None:
    """nbgrader autograde on the same code as notebooks; None without nbgrader."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return None
    course = work / "course"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["JUPYTER_RUNTIME_DIR"] = str(course / ".runtime")
    proc = subprocess.run(
        [GRADE, "nbgrader", "generate", str(course)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"  (nbgrader generate failed: {proc.stderr.strip()[:200]})")
        return None
    nbg = [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run(
        [*nbg, "generate_assignment", "autograd"], cwd=course, env=env, capture_output=True
    )
    if proc.returncode != 0:
        print("  (nbgrader generate_assignment failed)")
        return None
    released = json.loads((course / "release" / "autograd" / "autograd.ipynb").read_text())
    for sub in subs:
        notebook = json.loads(json.dumps(released))
        for cell in notebook["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in registry.BY_NAME:
                cell["source"] = (sub / registry.BY_NAME[grade_id].file).read_text()
        folder = course / "submitted" / sub.name / "autograd"
        folder.mkdir(parents=True)
        (folder / "autograd.ipynb").write_text(json.dumps(notebook))
        (folder / "timestamp.txt").write_text("2025-03-01 09:00:00.000000 UTC")
    cost, proc = timed([*nbg, "autograde", "autograd"], cwd=course, env=env, timeout=3600)
    if proc.returncode != 0:
        print(f"  (nbgrader autograde exited {proc.returncode})")
    return cost / len(subs)


def bench_floor(repeat: int) -> tuple[float, float]:
    torch_t = [timed([sys.executable, "-c", "import torch"])[0].wall for _ in range(repeat)]
    grade_t = []
    for _ in range(repeat):
        cost, proc = timed([GRADE, str(SOLUTIONS)])
        assert proc.returncode == 0, proc.stderr
        grade_t.append(cost.wall)
    return statistics.median(torch_t), statistics.median(grade_t)


def check_grades(rows: dict[str, dict], wrong: dict[str, set[str]]) -> list[str]:
    problems = []
    for student, files in wrong.items():
        row = rows.get(student)
        if row is None:
            problems.append(f"{student}: no row")
            continue
        total = float(row["total"])
        if not files and total != 80:
            problems.append(f"{student}: correct, but {total:g}/80")
        if files and total >= 80:
            problems.append(f"{student}: has mistakes in {sorted(files)}, but 80/80")
    for student in ("s0001", "s0002"):
        if student in rows and rows[student]["total"] != "70":
            problems.append(f"{student} (hang / self-kill): {rows[student]['total']}, expected 70")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="submissions in the class")
    parser.add_argument("--sample", type=int, default=8, help="submissions for the slow loops")
    parser.add_argument("--jobs", type=int, default=None, help="grade batch --jobs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the import-torch floor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="write the class here and keep it")
    parser.add_argument("--skip", action="append", default=[], help="plain, pytest, nbgrader")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    klass = args.keep or work / "class"
    if klass.exists():
        shutil.rmtree(klass)
    wrong = make_class(klass, args.n, args.seed)
    subs = sorted(p for p in klass.iterdir() if p.is_dir())
    sample = [s for s in subs if s.name not in ("s0001", "s0002")][: args.sample]
    print(f"{args.n} submissions, {os.cpu_count()} cores, Python {sys.version.split()[0]}")

    batch, rows = bench_batch(klass, work / "grades", args.jobs)
    per_batch = batch / args.n
    cores = os.cpu_count() or 1
    print(
        f"grade batch: {batch.wall:.1f} s wall, {batch.cpu:.1f} s CPU for {args.n}: "
        f"{args.n / batch.wall:.1f} submissions/s "
        f"({cores / per_batch.cpu:.1f}/s if it had the {cores} cores to itself)"
    )
    floor = bench_checks_floor([s for s in subs if s.name not in ("s0001", "s0002")][:100])
    print(
        f"warm-checks floor: {floor * 1000:.1f} ms CPU per submission: {cores / floor:.1f}/s "
        f"on {cores} cores; grade batch runs at {per_batch.cpu / floor:.1f}x the floor's CPU "
        f"({(cores / per_batch.cpu) / (cores / floor):.2f} of its rate)"
    )
    results = {"grade batch": per_batch}
    if "plain" not in args.skip:
        results["grade (one by one)"] = bench_plain_grade(sample)
    if "pytest" not in args.skip:
        results["fresh python+pytest"] = bench_fresh_pytest(sample, work)
    if "nbgrader" not in args.skip:
        nb = bench_nbgrader(sample, work)
        if nb is not None:
            results["nbgrader autograde"] = nb
        else:
            print("nbgrader is not installed: skipped")
    print()
    if "nbgrader autograde" in results:
        nb = results["nbgrader autograde"]
        print(
            f"nbgrader autograde: {nb.wall:.2f} s per submission: grade batch is "
            f"{nb.wall / per_batch.wall:.0f}x faster (wall), {nb.cpu / per_batch.cpu:.0f}x (CPU)"
        )
    head = ("per submission", "wall s", "CPU s", "x batch (wall)", "x (CPU)")
    print(f"{head[0]:<22} {head[1]:>8} {head[2]:>8} {head[3]:>15} {head[4]:>8}")
    for name, cost in results.items():
        print(
            f"{name:<22} {cost.wall:8.3f} {cost.cpu:8.3f} "
            f"{cost.wall / per_batch.wall:15.1f} {cost.cpu / per_batch.cpu:8.1f}"
        )
    torch_s, grade_s = bench_floor(args.repeat)
    print()
    print(f'python -c "import torch"  {torch_s:6.2f} s (median of {args.repeat})')
    print(f"grade solutions/          {grade_s:6.2f} s  ({grade_s / torch_s:.2f}x import torch)")
    problems = check_grades(rows, wrong)
    print()
    if problems:
        print("GRADES WRONG:")
        for line in problems:
            print("  " + line)
    else:
        print(f"grades: all {args.n} as expected (correct 80, hang and self-kill 70)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
