"""A correct function that also tries System V IPC and POSIX shared memory: it
writes into a shared memory segment the test made (mode 0666, its key from the
test), creates a segment under the next key and a file in /dev/shm named after
the run.
The grader: full marks; the test's segment still holds zeros, and neither the
new segment nor the file exists outside. Reaching the test's segment makes the
function raise, so a leak also costs the points."""

import ctypes

import torch

TARGETS: dict = {}  # tests/test_sandbox.py writes its segment's key here


def _escapes() -> list:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    got = []
    segment = libc.shmget(TARGETS["shm_key"], 0, 0)
    if segment >= 0:
        address = libc.shmat(segment, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, b"LEAK", 4)
            got.append("the test's segment")
    libc.shmget(TARGETS["shm_key"] + 1, 4096, 0o1666)  # IPC_CREAT | 0666
    try:
        with open("/dev/shm/escaped-" + TARGETS["token"], "x") as fh:
            fh.write("written by a learner's code\n")
    except OSError:
        pass
    return got


def partial_grads(f, *xs):
    escaped = _escapes()
    if escaped:
        raise RuntimeError(f"escaped: {', '.join(escaped)}")
    leaves = [x.detach().requires_grad_(True) for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(
        torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads, strict=True)
    )
