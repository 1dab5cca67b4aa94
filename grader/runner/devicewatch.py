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

A third fails on a GPU too: a gradient handed to autograd (``y.backward(g)``,
``torch.autograd.backward``, ``grad_outputs=`` of ``torch.autograd.grad``) that
would be on the CPU while its output would be on the GPU raises CUDA's
``RuntimeError`` ("invalid gradient at index 0 - expected device cuda:0 but got
cpu"), unless the gradient is 0-d (autograd moves those itself).

``torch.tensor(t)``, ``torch.as_tensor(t)`` and ``torch.asarray(t)`` without
``device=`` keep the device of a tensor ``t``: their result is marked only when
``t`` is. No torch function mode sees ``torch.from_numpy`` or ``torch.frombuffer``
run, so ``install`` wraps them once in the worker, before any learner code loads:
while a watch is on, their results are marked as made on the CPU.

(PyTorch's ``meta`` device would show the same, but on torch 2.x its elementwise
kernels import torch._dynamo, which costs over a second per worker.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors
from torch.utils._pytree import tree_flatten

_TENSOR = torch.Tensor
_FACTORIES = frozenset(_device_constructors())
_TO_CPU = (_TENSOR.cpu, _TENSOR.numpy, _TENSOR.tolist)
_MOVES = (_TENSOR.to, _TENSOR.type_as, _TENSOR.cuda)
_INDEXING = (_TENSOR.__getitem__, _TENSOR.__setitem__)
_TO_NUMPY = (_TENSOR.numpy, _TENSOR.__array__)
_STORAGE = _TENSOR.untyped_storage
_FROM_DATA = (torch.tensor, torch.as_tensor, torch.asarray)  # keep a tensor's device
_BACKWARD = (_TENSOR.backward, torch.autograd.backward, torch.autograd.grad)
GPU = "cuda:0"  # the device a watched input stands for
NUMPY_ON_GPU = (
    f"can't convert {GPU} device type tensor to numpy. "
    "Use Tensor.cpu() to copy the tensor to host memory first."
)  # CUDA's own words
_TAG_PRIORITY = -(2**31)  # before torch's own taggers (cpu is 10)

DEFAULT_DEVICE = "default_device"
MOVED_TO_CPU = "moved_to_cpu"
MADE_ON_CPU = "made_on_cpu"  # torch.from_numpy, torch.frombuffer


def _destination(func: Any, args: tuple, kwargs: dict) -> Any:
    """Where ``Tensor.to``, ``type_as`` or ``cuda`` sends a tensor: ``"cpu"`` (the
    CPU written out as a string), ``"inputs"`` (a device object such as
    ``x.device``, a GPU string or index: on a GPU, the inputs' device), a tensor
    (``.to(other)``, ``type_as(other)``: other's device), or None (no device)."""
    if func is _TENSOR.cuda:
        return "inputs"
    other = kwargs.get("other", args[1] if len(args) > 1 else None)
    if isinstance(other, _TENSOR):
        return other
    if func is not _TENSOR.to:
        return None
    device = kwargs.get("device", other)
    if isinstance(device, str):
        return "cpu" if _names_cpu(device) else "inputs"
    if isinstance(device, (torch.device, int)) and not isinstance(device, bool):
        return "inputs"  # x.device stands for the GPU here, whatever it says
    return None


def _names_cpu(device: Any) -> bool:
    """``device="cpu"`` written out (``device=x.device`` is a torch.device, and on this
    machine names the CPU too, so only strings tell)."""
    return isinstance(device, str) and device.split(":")[0] == "cpu"


def _forced(func: Any, args: tuple, kwargs: dict) -> bool:
    """``Tensor.numpy(force=True)``: copies to the CPU itself, so it works on a GPU."""
    if func is not _TENSOR.numpy:
        return False
    return bool(kwargs.get("force", args[1] if len(args) > 1 else False))


def _data(args: tuple, kwargs: dict) -> Any:
    """The data argument of ``torch.tensor`` / ``as_tensor`` / ``asarray``."""
    if args:
        return args[0]
    return kwargs.get("data", kwargs.get("obj"))


def _as_tuple(value: Any) -> tuple:
    """A tensor, or a list or tuple of them, as a tuple (anything else: nothing, so
    a generator is left for autograd to read)."""
    if isinstance(value, _TENSOR):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def _roots(func: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple, int]:
    """The outputs a backward call starts from, the gradients handed for them, and
    how many leading dims of each gradient are a batch (``is_grads_batched``)."""
    if func is _TENSOR.backward:
        return args[:1], _as_tuple(kwargs.get("gradient", args[1] if len(args) > 1 else None)), 0
    outputs = _as_tuple(args[0] if args else kwargs.get("tensors", kwargs.get("outputs")))
    if func is torch.autograd.backward:
        grads = kwargs.get("grad_tensors", args[1] if len(args) > 1 else None)
        return outputs, _as_tuple(grads), 0
    grads = kwargs.get("grad_outputs", args[2] if len(args) > 2 else None)
    return outputs, _as_tuple(grads), int(bool(kwargs.get("is_grads_batched")))


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
_WRAPPERS: set[Any] = set()


def _made_on_cpu(make: Callable[..., Any]) -> Callable[..., Any]:
    """``make`` (torch.from_numpy, torch.frombuffer), marking its result while a
    watch is on: on a GPU it is a CPU tensor all the same."""

    @functools.wraps(make)
    def made(*args: Any, **kwargs: Any) -> Any:
        out = make(*args, **kwargs)
        if _ACTIVE:
            _ACTIVE[-1]._mark(out, MADE_ON_CPU)
        return out

    _WRAPPERS.add(made)
    return made


def install() -> None:
    """Wrap ``torch.from_numpy`` and ``torch.frombuffer`` (see the module's docstring).
    The worker calls this once, before the snapshot of its trusted state and before
    any learner code, so ``from torch import from_numpy`` gets the wrapper too.
    Without a watch on, the wrappers only call through. Calling it again does nothing."""
    for name in ("from_numpy", "frombuffer"):
        current = getattr(torch, name)
        if current not in _WRAPPERS:
            setattr(torch, name, _made_on_cpu(current))


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
        if func in _BACKWARD and self._marks:
            self._check_gradients(func, args, kwargs)
        out = func(*args, **kwargs)
        if func is _STORAGE and args and isinstance(args[0], _TENSOR):
            self.storages[int(out.data_ptr())] = id(args[0]) not in self._marks
            return out
        if func in _FROM_DATA and kwargs.get("device") is None:
            data = _data(args, kwargs)
            if isinstance(data, _TENSOR):  # the result is on data's device (maybe data itself)
                if id(data) in self._marks and out is not data:
                    self._mark(out, self._marks[id(data)][0])
                return out
        if func in _FACTORIES and kwargs.get("device") is None:
            self._mark(out, DEFAULT_DEVICE)
            return out
        if _names_cpu(kwargs.get("device")) and func is not _TENSOR.to:
            self._mark(out, MOVED_TO_CPU)  # torch.zeros(..., device="cpu"), zeros_like too
            return out
        if func in _FACTORIES:
            return out
        where = _destination(func, args, kwargs) if func in _MOVES else None
        if isinstance(where, _TENSOR):  # to(other), type_as(other): other's device
            where = self._marks.get(id(where), ("inputs",))[0]
        if where == "inputs":  # moved to the inputs' device: nothing follows it
            if args and out is args[0] and id(out) in self._marks:
                return out.clone()  # a copy onto the GPU there; the original keeps its mark
            return out
        if where == "cpu":
            where = MOVED_TO_CPU
        if func in _TO_CPU or where is not None:
            if isinstance(out, _TENSOR):
                if args and out is args[0]:
                    out = out.clone()  # a no-op here; keep the input itself unmarked
                self._mark(out, where or MOVED_TO_CPU)
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

    def _check_gradients(self, func: Any, args: tuple, kwargs: dict) -> None:
        """Raise CUDA's error for a gradient that would be on the CPU, handed for an
        output that would be on the GPU (0-d gradients are moved, as autograd does)."""
        outputs, grads, batch = _roots(func, args, kwargs)
        for i, (out, grad) in enumerate(zip(outputs, grads, strict=False)):
            if not isinstance(out, _TENSOR) or not isinstance(grad, _TENSOR):
                continue
            if id(out) in self._marks or id(grad) not in self._marks:
                continue
            if grad.dim() > batch:
                raise RuntimeError(
                    f"invalid gradient at index {i} - expected device {GPU} but got cpu"
                )
