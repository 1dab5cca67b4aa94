"""Stealing: looks for the reference answer through gc (every tensor alive), the
callers' frames and inspect.stack(), `import solutions`, and the grader's process
(/proc/<parent>/mem, environ, cmdline); returns whatever it finds that is not an
input. No reference value exists in the learner's process: values fail."""

import gc
import inspect
import os
import sys

import torch


def _found(x):
    inputs = {id(x)}
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and id(obj) not in inputs and obj.shape == x.shape:
            if not obj.requires_grad and obj.data_ptr() != x.data_ptr():
                return obj
    frame = sys._getframe(1)
    while frame is not None:
        for name in ("expected", "reference", "want", "ref"):
            if isinstance(frame.f_locals.get(name), torch.Tensor):
                return frame.f_locals[name]
        frame = frame.f_back
    for info in inspect.stack():
        if "expected" in info.frame.f_locals:
            return info.frame.f_locals["expected"]
    return None


def accumulated_grad(f, x, times):
    try:
        import solutions.ex05_accumulate  # noqa: F401

        return solutions.ex05_accumulate.accumulated_grad(f, x, times)
    except ImportError:
        pass
    for name in ("mem", "environ", "cmdline"):
        try:
            with open(f"/proc/{os.getppid()}/{name}", "rb") as fh:
                fh.read(4096)
        except OSError:
            pass
    stolen = _found(x)
    return stolen if stolen is not None else torch.full_like(x, 12345.0)
