"""A correct function that also sends SIGKILL to every process it can see, to all
it may signal (kill -1), to its parent's process group and to a process of the
grading user that the test started (its pid as the machine numbers it).
The grader: full marks, the run completes and the test's process lives on.
Seeing any process but its own and its namespace's first makes the function
raise, so a look at the machine's processes also costs the points."""

import os
import signal

import torch

TARGETS: dict = {}  # tests/test_sandbox.py writes its process's pid here


def _escapes() -> list:
    me = os.getpid()
    seen = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    for pid in seen:
        if pid != me:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    attempts = [lambda: os.kill(-1, signal.SIGKILL)]
    parent = os.getppid()
    if parent > 1 and os.getpgid(parent) != os.getpgid(0):
        attempts.append(lambda: os.killpg(os.getpgid(parent), signal.SIGKILL))
    if TARGETS["bystander"] not in (1, me):
        attempts.append(lambda: os.kill(TARGETS["bystander"], signal.SIGKILL))
    for attempt in attempts:
        try:
            attempt()
        except OSError:
            pass
    return [f"pid {pid}" for pid in seen if pid not in (1, me)][:5]


def evaluate_without_grad(f, x):
    escaped = _escapes()
    if escaped:
        raise RuntimeError(f"sees other processes: {', '.join(escaped)}")
    with torch.no_grad():
        return f(x)
