"""Whether a worker is still fit to grade the learner's next exercise.

One worker grades all of one learner's exercises in turn. After each file,
``reset.Snapshot`` undoes what Python code can change; ``Health`` then looks for
damage the undo does not reach. If it finds any, the worker stops and the
learner's remaining exercises are graded in fresh workers, so one file's
sabotage costs only that file's exercises.

What is compared with the state taken before the first exercise: threads, child
processes, open file descriptors, the working folder, the environment, umask,
resource limits (CPU time aside: it is reset per exercise), the import system
(``sys.path``, ``sys.meta_path``, ``sys.path_hooks``), torch's global switches
(anomaly mode, deterministic algorithms, inference mode, saved-tensor hooks,
threads), and a small autograd computation whose answer is known.
"""

from __future__ import annotations

import os
import resource
import sys
from typing import Any

import torch

_LIMITS = tuple(
    getattr(resource, name)
    for name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC")
    if hasattr(resource, name)
)
_listdir = os.listdir
_getcwd = os.getcwd
_umask = os.umask
_getrlimit = resource.getrlimit
_is_anomaly = torch.is_anomaly_enabled
_deterministic = torch.are_deterministic_algorithms_enabled
_inference = torch.is_inference_mode_enabled
_num_threads = torch.get_num_threads
_saved_hooks = getattr(torch._C._autograd, "_top_saved_tensors_default_hooks", None)


class Health:
    """The process state the learner's next exercise relies on."""

    def __init__(self) -> None:
        self.state = _state()

    def holds(self) -> bool:
        """The state is as it was, and autograd still computes a known gradient."""
        try:
            return _state() == self.state and _autograd_works()
        except Exception:
            return False


def _state() -> dict[str, Any]:
    mask = _umask(0o077)
    _umask(mask)
    return {
        "threads": len(sys._current_frames()),
        "children": _children(),
        "fds": sorted(_listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else [],
        "cwd": _getcwd(),
        "environ": dict(os.environ),
        "umask": mask,
        "limits": [_getrlimit(which) for which in _LIMITS],
        "path": list(sys.path),
        "meta_path": [id(finder) for finder in sys.meta_path],
        "path_hooks": [id(hook) for hook in sys.path_hooks],
        "anomaly": _is_anomaly(),
        "deterministic": _deterministic(),
        "inference": _inference(),
        "num_threads": _num_threads(),
        "saved_hooks": _saved_hooks(False) is not None if _saved_hooks else None,
    }


def _children() -> list[str]:
    found: list[str] = []
    try:
        for task in _listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as fh:
                found += fh.read().split()
    except OSError:
        pass
    return sorted(found)


def _autograd_works() -> bool:
    """d/dx (x**3 + 2x) at x = 2 is 14, by backward and by autograd.grad."""
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (by_grad,) = torch.autograd.grad(x**3 + 2 * x, x)
    leaf = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (leaf**3 + 2 * leaf).backward()
    return float(by_grad) == 14.0 and leaf.grad is not None and float(leaf.grad) == 14.0
