"""Catch device-bound code on a machine that has only a CPU.

Code that calls ``.cpu()`` on its result, or builds a tensor with ``torch.zeros(shape)``
(which lands on the default device), passes on CPU inputs and breaks on a GPU.
``DeviceWatch`` runs the learner's function on CPU inputs while tracking, for
every tensor the call produces, whether it would have left the inputs' device:
tensors made by a factory without ``device=`` and tensors passed through
``.cpu()`` / ``.to("cpu")`` are marked, and marks flow through every operation
the way devices do (a 0-d CPU tensor mixes with GPU tensors; a larger one would
not). A marked result is one that would be on the wrong device, or whose
computation would fail, for inputs on a GPU.

(PyTorch's ``meta`` device would show the same, but on torch 2.x its elementwise
kernels import torch._dynamo, which costs over a second per worker.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors
from torch.utils._pytree import tree_flatten

_TENSOR = torch.Tensor
_FACTORIES = frozenset(_device_constructors())
_TO_CPU = (_TENSOR.cpu, _TENSOR.numpy, _TENSOR.tolist)
_INDEXING = (_TENSOR.__getitem__, _TENSOR.__setitem__)

DEFAULT_DEVICE = "default_device"
MOVED_TO_CPU = "moved_to_cpu"


def _targets_cpu(args: tuple, kwargs: dict) -> bool:
    """Whether a ``Tensor.to(...)`` call names the CPU as its device."""
    candidates = [kwargs.get("device"), *args[1:2]]
    for c in candidates:
        if isinstance(c, str) and c.split(":")[0] == "cpu":
            return True
        if isinstance(c, torch.device) and c.type == "cpu":
            return True
    return False


class DeviceWatch(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self._marks: dict[int, tuple[str, torch.Tensor]] = {}  # id -> (why, tensor kept alive)

    def why(self, value: Any) -> str | None:
        """Why ``value`` (a tensor, or a list/tuple of them) would leave the device."""
        leaves, _ = tree_flatten(value)
        for leaf in leaves:
            if isinstance(leaf, _TENSOR) and id(leaf) in self._marks:
                return self._marks[id(leaf)][0]
        return None

    def _mark(self, out: Any, why: str) -> None:
        leaves, _ = tree_flatten(out)
        for leaf in leaves:
            if isinstance(leaf, _TENSOR):
                self._marks[id(leaf)] = (why, leaf)

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _FACTORIES:
            if kwargs.get("device") is None:
                self._mark(out, DEFAULT_DEVICE)
            return out
        if func in _TO_CPU or (func is _TENSOR.to and _targets_cpu(args, kwargs)):
            if isinstance(out, _TENSOR):
                if args and out is args[0]:
                    out = out.clone()  # a no-op on CPU; keep the input itself unmarked
                self._mark(out, MOVED_TO_CPU)
            return out
        if not self._marks:  # nothing marked yet (correct code, mostly): nothing can follow
            return out
        if func in _INDEXING:  # CUDA tensors accept CPU index tensors: only the indexed one counts
            args, kwargs = args[:1], {}
        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, _TENSOR)]
        marked = [t for t in inputs if id(t) in self._marks]
        if marked and (len(marked) == len(inputs) or any(t.dim() > 0 for t in marked)):
            self._mark(out, self._marks[id(marked[0])][0])
        return out
