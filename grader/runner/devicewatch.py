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

Two things fail outright on a GPU, so the watch makes them fail here too, or
says where the data would have been:

- ``.numpy()`` (and ``numpy.asarray(t)``, which calls it) on a tensor that would
  be on the GPU raises the same ``TypeError`` CUDA raises ("can't convert cuda:0
  device type tensor to numpy"); ``.numpy(force=True)`` and tensors already
  moved to the CPU are fine.
- ``torch.save`` writes each storage's device into the file. While the watch is
  on, storages of tensors that would be on the GPU are tagged ``cuda:0`` there,
  as on a GPU, so a file that a CPU-only machine could not load shows as one.
  (torch.save asks each tensor for ``untyped_storage()``; the watch notes which
  of those tensors are unmarked.)

Tensors the watch never sees made (``torch.from_numpy``, ``torch.frombuffer``)
count as the inputs' device, like any unmarked tensor.

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
_TO_NUMPY = (_TENSOR.numpy, _TENSOR.__array__)
_STORAGE = _TENSOR.untyped_storage
GPU = "cuda:0"  # the device a watched input stands for
NUMPY_ON_GPU = (
    f"can't convert {GPU} device type tensor to numpy. "
    "Use Tensor.cpu() to copy the tensor to host memory first."
)  # CUDA's own words
_TAG_PRIORITY = -(2**31)  # before torch's own taggers (cpu is 10)

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


def _names_cpu(device: Any) -> bool:
    """``device="cpu"`` written out (``device=x.device`` is a torch.device, and on this
    machine names the CPU too, so only strings tell)."""
    return isinstance(device, str) and device.split(":")[0] == "cpu"


def _forced(func: Any, args: tuple, kwargs: dict) -> bool:
    """``Tensor.numpy(force=True)``: copies to the CPU itself, so it works on a GPU."""
    if func is not _TENSOR.numpy:
        return False
    return bool(kwargs.get("force", args[1] if len(args) > 1 else False))


_ACTIVE: list[DeviceWatch] = []


def _tag(storage: Any) -> str | None:
    """torch.save's location tag for ``storage`` while a watch is on: ``cuda:0`` for
    a storage of a tensor that would be on the GPU (None: torch's own tag)."""
    if not _ACTIVE or storage.device.type != "cpu":
        return None
    return GPU if _ACTIVE[-1].storages.get(storage.data_ptr()) else None


def _no_restore(storage: Any, location: str) -> None:
    return None  # loading is never watched


_ENTRY = (_TAG_PRIORITY, _tag, _no_restore)


class DeviceWatch(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self._marks: dict[int, tuple[str, torch.Tensor]] = {}  # id -> (why, tensor kept alive)
        # storage address -> whether the tensor last asked for it would be on the GPU
        self.storages: dict[int, bool] = {}

    def __enter__(self) -> DeviceWatch:
        _ACTIVE.append(self)
        registry = torch.serialization._package_registry
        if _ENTRY not in registry:
            registry.insert(0, _ENTRY)
        return super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            super().__exit__(*exc)
        finally:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            registry = torch.serialization._package_registry
            while not _ACTIVE and _ENTRY in registry:
                registry.remove(_ENTRY)

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
        if func in _TO_NUMPY and args and not _forced(func, args, kwargs):
            if isinstance(args[0], _TENSOR) and id(args[0]) not in self._marks:
                raise TypeError(NUMPY_ON_GPU)  # as CUDA does, before anything else
        out = func(*args, **kwargs)
        if func is _STORAGE and args and isinstance(args[0], _TENSOR):
            self.storages[int(out.data_ptr())] = id(args[0]) not in self._marks
            return out
        if func in _FACTORIES and kwargs.get("device") is None:
            self._mark(out, DEFAULT_DEVICE)
            return out
        if _names_cpu(kwargs.get("device")) and func is not _TENSOR.to:
            self._mark(out, MOVED_TO_CPU)  # torch.zeros(..., device="cpu"), zeros_like too
            return out
        if func in _FACTORIES:
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
