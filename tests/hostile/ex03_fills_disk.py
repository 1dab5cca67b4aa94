"""A correct function that tries to fill the disk: files in the working directory,
$HOME, /tmp, /var/tmp and /dev/shm (one of 32 MB, over the 16 MB a file may
have; about 40 MB in all, each write allowed to fail), a folder it makes
unwritable, and a System V shared memory segment that outlives processes.
The grader: full marks; afterwards none of those files or segments is left."""

import ctypes
import os

import torch

_TOKEN = "hostile-" + os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BLOCK = b"\0" * (4 << 20)


def _fill():
    try:
        with open(f"{_TOKEN}-big", "wb") as fh:
            fh.write(_BLOCK * 8)  # 32 MB: the file-size limit stops it at 16 MB
    except OSError:
        pass
    places = [".", os.environ.get("HOME", "."), "/tmp", "/var/tmp", "/dev/shm"]
    for place in places:
        for i in range(1):
            try:
                with open(os.path.join(place, f"{_TOKEN}-{i}"), "wb") as fh:
                    fh.write(_BLOCK)
            except OSError:
                break
    try:
        os.makedirs(f"/tmp/{_TOKEN}-dir/sub", exist_ok=True)
        os.chmod(f"/tmp/{_TOKEN}-dir", 0o500)
    except OSError:
        pass
    try:
        libc = ctypes.CDLL(None)
        libc.shmget(0, 1 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    except OSError:
        pass


def partial_grads(f, *xs):
    _fill()
    leaves = [x.detach().requires_grad_(True) for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(
        torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads, strict=True)
    )
