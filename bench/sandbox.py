"""What the namespaces of the sandbox cost, per worker and per sandbox, side by side.

    .venv/bin/python bench/sandbox.py              # 40 runs of each kind, this user
    .venv/bin/python bench/sandbox.py --runs 100

Two sandboxes live side by side: one with every namespace (what ``grade`` uses
here), one with ``GRADE_SANDBOX_SKIP=all`` (the protections of a kernel without
them). Their runs alternate, so that drift on a shared machine hits both alike.
It prints medians and the ratio with / without:

- starting a sandbox (the zygote, until it says which protections hold);
- a worker that runs no learner code (fork, confinement, answer, clean-up);
- a worker that grades the reference scalar_grad (its hidden cases included);
- the primitives behind them, each measured in a child of this torch-holding
  process: a plain fork, a PID namespace placeholder, the worker's mounts, and a
  network namespace made per worker (the zygote makes one for all instead).

Run it as root and as an ordinary user: the namespaces differ (a user namespace).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import torch

from grader import registry
from grader.grading import Settings, draw_cases, grade
from grader.runner import namespaces
from grader.runner.execute import Job, Limits, Sandbox
from grader.submission import load_folder

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def skipping(value: str):
    old = os.environ.get(namespaces.SKIP_ENV)
    os.environ[namespaces.SKIP_ENV] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[namespaces.SKIP_ENV]
        else:
            os.environ[namespaces.SKIP_ENV] = old


def start(skip: str) -> tuple[Sandbox, float]:
    with skipping(skip):
        began = time.perf_counter()
        box = Sandbox(Limits(timeout=20.0, total=1e9))
        box.isolation()
        return box, time.perf_counter() - began


def in_turn(turn: int, with_box: Sandbox, without_box: Sandbox) -> list[tuple[str, Sandbox]]:
    """Both sandboxes, the first one changing every turn (no order effect)."""
    pair = [("with", with_box), ("without", without_box)]
    return pair if turn % 2 == 0 else pair[::-1]


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def in_child(setup: Callable[[], None], step: Callable[[], None], runs: int) -> list[float]:
    """Seconds ``step`` takes in a fresh child of this process, after ``setup``."""
    found = []
    for _ in range(runs):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                setup()
                began = time.perf_counter()
                step()
                os.write(write, repr(time.perf_counter() - began).encode())
            finally:
                os._exit(0)
        os.close(write)
        out = os.read(read, 64)
        os.close(read)
        os.waitpid(pid, 0)
        if out:
            found.append(float(out))
    return found


def forks(runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        began = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        found.append(time.perf_counter() - began)
    return found


def primitives(runs: int, iso: namespaces.Isolation) -> dict[str, list[float]]:
    """Each measured in a child, in a user namespace as the zygote of an ordinary user."""
    found: dict[str, list[float]] = {"fork of this process (torch loaded)": forks(runs)}

    def user() -> None:
        if not iso.root:
            namespaces._enter_user_namespace()

    def network() -> None:
        namespaces.unshare(namespaces.CLONE_NEWNET)

    scratch = tempfile.mkdtemp(prefix="bench-")
    mounts = namespaces.Isolation(root=iso.root, filesystem=True, ipc=True)

    def worker_mounts() -> None:
        namespaces.isolate_worker(mounts, scratch=scratch)

    try:
        if iso.network:
            found["a network namespace per worker (not done)"] = in_child(user, network, runs)
        if iso.filesystem:
            found["a worker's mount and IPC namespaces (no /proc)"] = in_child(
                user, worker_mounts, runs
            )
        if iso.processes:
            found["a worker's PID namespace (clone + 2 setns)"] = placeholder_costs(runs, iso)
    finally:
        os.rmdir(scratch)
    return found


def placeholder_costs(runs: int, iso: namespaces.Isolation) -> list[float]:
    """Measured inside a child that is PID 1 of its own namespace, as the zygote is."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            if not iso.root:
                namespaces._enter_user_namespace()
            namespaces._become_pid_one([read])  # returns in PID 1, with its own /proc
            pids = namespaces.PidNamespaces(True)
            out = []
            for _ in range(runs):
                began = time.perf_counter()
                init = pids.enter_new()
                pids.leave(-1, init)
                out.append(time.perf_counter() - began)
                os.waitpid(init, 0)
                pids.reaped(init)
            os.write(write, " ".join(map(repr, out)).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return [float(x) for x in data.split()]


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    exercise = registry.BY_NAME["scalar_grad"]
    source_path = ROOT / "solutions" / exercise.file
    source = source_path.read_text()
    cases = draw_cases(exercise, 7, "cpu")
    real = Job(exercise, source, str(source_path), cases, submission="bench")
    empty = Job(exercise, source, str(source_path), [], submission="bench")

    starts: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(5):
        for kind, skip in (("with", ""), ("without", "all")):
            box, seconds = start(skip)
            starts[kind].append(seconds)
            box.close()
    with_box, _ = start("")
    without_box, _ = start("all")
    iso = with_box.isolation()
    rows: dict[str, dict[str, list[float]]] = {
        "worker, no learner code": {"with": [], "without": []},
        f"worker, scalar_grad ({len(cases)} cases)": {"with": [], "without": []},
        "grade(): the 8 reference solutions of unit 1": {"with": [], "without": []},
    }
    exercises = tuple(ex for ex in registry.EXERCISES if ex.unit == 1)
    solutions = load_folder(ROOT / "solutions", exercises)
    settings = Settings(seed=7, limits=Limits(timeout=20.0, total=1e9), jobs=2)
    try:
        for job, row in zip((empty, real), rows.values(), strict=False):
            for box in (with_box, without_box):  # warm up
                box.run(job)
            for turn in range(args.runs):
                for kind, box in in_turn(turn, with_box, without_box):
                    row[kind].append(timed(lambda box=box, job=job: box.run(job)))
        row = rows["grade(): the 8 reference solutions of unit 1"]
        for turn in range(max(3, args.runs // 4)):  # printed as grades below
            for kind, box in in_turn(turn, with_box, without_box):
                row[kind].append(
                    timed(lambda box=box: grade([solutions], exercises, settings, sandbox=box))
                )
    finally:
        without_box.close()
        with_box.close()

    who = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    print(
        f"{platform.node()}: Linux {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, as {who}"
    )
    print(f"with namespaces: {', '.join(iso.holds())} (missing: {', '.join(iso.missing()) or '-'})")
    grades = max(3, args.runs // 4)
    print(f"medians of {args.runs} alternating runs (sandbox start: 5, grade(): {grades})\n")
    print(f"{'':40} {'with':>9} {'without':>9} {'ratio':>7}")
    for name, row in {"sandbox start (zygote ready)": starts, **rows}.items():
        a, b = ms(row["with"]), ms(row["without"])
        print(f"{name:40} {a:7.1f}ms {b:7.1f}ms {a / b:7.2f}")
    print("\nprimitives (each in a child of this process):")
    for name, values in primitives(max(10, args.runs // 2), iso).items():
        print(f"  {name:52} {ms(values):7.2f}ms")


if __name__ == "__main__":
    ctypes.CDLL(None)  # fail early where there is no libc to call
    main()
