"""What the worker records about a learner's function call, as plain data.

The probes in ``grader/checks`` call the learner's function and describe what
came back with a ``Recorder``. Attribute reads go through descriptors captured
from torch's C base class when this module is imported (before any learner code
runs), so monkeypatching ``torch.Tensor`` cannot change what is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy
import torch
from torch import Tensor

from grader.runner import backprop, wire
from grader.runner.devicewatch import DeviceWatch
from grader.text_safety import MAX_NAME, clean

_TENSOR = torch.Tensor
_BASE = torch._C.TensorBase
_shape = _BASE.shape.__get__
_dtype = _BASE.dtype.__get__
_device = _BASE.device.__get__
_requires_grad = _BASE.requires_grad.__get__
_grad_fn = _BASE.grad_fn.__get__
_grad = _BASE.grad.__get__
_is_leaf = _BASE.is_leaf.__get__
_layout = _BASE.layout.__get__
_numel = _BASE.numel
_is_quantized = _BASE.is_quantized.__get__
_is_nested = _BASE.is_nested.__get__
_STRIDED = torch.strided
_detach = _BASE.detach
_to = _BASE.to
_clone = _BASE.clone
_data_ptr = _BASE.data_ptr
_untyped_storage = _BASE.untyped_storage
_stride = _BASE.stride
_storage_offset = _BASE.storage_offset
_element_size = _BASE.element_size
_no_subclass_code = torch._C.DisableTorchFunctionSubclass
is_grad_enabled = torch._C.is_grad_enabled
_is_subclass = type.__dict__["__subclasscheck__"]  # (cls, sub): no metaclass code runs
_type_module = type.__dict__["__module__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_NDARRAY = numpy.ndarray
_np_array = numpy.array
_np_float64 = numpy.float64

MAX_ITEMS = 16


def tensor_facts(t: Tensor) -> dict[str, Any]:
    return {
        "kind": "tensor",
        "shape": list(_shape(t)),
        "dtype": str(_dtype(t)).removeprefix("torch."),
        "device": _device(t).type,
        "requires_grad": bool(_requires_grad(t)),
        "grad_fn": _grad_fn(t) is not None,
        "is_leaf": bool(_is_leaf(t)),
    }


def unusual(t: Tensor) -> str | None:
    """What makes ``t`` more than a plain dense tensor of real numbers (the meta
    device, a sparse, MKL-DNN or nested layout, quantized or complex values), or
    None. Such a result is described by its type alone: its numbers are not a
    gradient to compare."""
    if _device(t).type == "meta":
        return "torch.Tensor (meta device: no values)"
    layout = _layout(t)
    if layout is not _STRIDED:
        return f"torch.Tensor ({str(layout).removeprefix('torch.')} layout)"
    if _is_quantized(t):
        return "torch.Tensor (quantized)"
    if _is_nested(t):
        return "torch.Tensor (nested)"
    dtype = _dtype(t)
    if dtype not in wire.PLAIN_DTYPES:  # complex, float8, quantized integer types
        return f"torch.Tensor ({str(dtype).removeprefix('torch.')})"
    return None


def storage_ptr(t: Tensor) -> int:
    """Address of the storage behind ``t`` (0 on the meta device)."""
    if _device(t).type == "meta":
        return 0
    return int(_untyped_storage(t).data_ptr())


def shared_pairs(out: object) -> list[list[int]]:
    """Pairs [i, j] of entries of a returned list or tuple whose memory overlaps
    (the same storage, and spans that meet): writing to one could change the
    other. Views of one buffer that never meet, such as the rows ``unbind(0)``
    gives, are independent."""
    items = list(out)[:MAX_ITEMS] if type(out) in (list, tuple) else []  # type: ignore[call-overload]
    spans = {i: _span(t) for i, t in enumerate(items) if type(t) is _TENSOR}
    return [
        [i, j]
        for i, a in spans.items()
        for j, b in spans.items()
        if i < j and a[0] and a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
    ]


def _span(t: Tensor) -> tuple[int, int, int]:
    """(storage address, first byte, one past the last byte) of the elements ``t``
    views; an empty tensor spans nothing."""
    base = storage_ptr(t)
    if base == 0 or _numel(t) == 0:
        return (base, 0, 0)
    size = _element_size(t)
    first = _storage_offset(t) * size
    reach = sum((n - 1) * abs(s) for n, s in zip(_shape(t), _stride(t), strict=True))
    return (base, first, first + (reach + 1) * size)


def cpu_copy(t: Tensor) -> Tensor:
    return _clone(_to(_detach(t), "cpu"))


def grad_of(t: Tensor) -> Tensor | None:
    return _grad(t)


def _element_bytes(t: Tensor) -> tuple[Tensor, Tensor]:
    """A fresh flat uint8 tensor over ``t``'s whole storage, and the positions in it
    of the bytes of each of ``t``'s elements, in ``t``'s element order (numel x itemsize).

    Reads and writes through these go through a tensor the grader made, never
    through ``t``: they work whatever the learner made of ``t`` (an inference
    tensor, an expanded one, a view created under another grad mode).
    """
    with _no_subclass_code():
        size = int(_element_size(t))
        device = _device(t)
        raw = torch.empty(0, dtype=torch.uint8, device=device).set_(_untyped_storage(t))
        pos = torch.tensor(int(_storage_offset(t)) * size, dtype=torch.int64)
        for n, stride in zip(_shape(t), _stride(t), strict=True):
            pos = pos.unsqueeze(-1) + torch.arange(int(n), dtype=torch.int64) * (stride * size)
        pos = pos.reshape(-1, 1) + torch.arange(size, dtype=torch.int64)
    return raw, pos.to(device)


def read_bytes(t: Tensor) -> Tensor:
    """The bytes of ``t``'s elements on the CPU (numel x itemsize), read without ``t``."""
    raw, pos = _element_bytes(t)
    return raw[pos].cpu()


def flip_bytes(t: Tensor) -> None:
    """Invert every bit of the memory ``t``'s elements cover (a second call undoes it),
    written without ``t``: every tensor that shares any of that memory sees it."""
    raw, pos = _element_bytes(t)
    where = torch.unique(pos.reshape(-1))
    raw[where] = raw[where].bitwise_not()


class Recorder:
    """Facts and tensors recorded for one case.

    ``settle`` (the worker passes ``Snapshot.settle``) runs right after the
    learner's function returns, before anything is recorded: it undoes
    monkeypatches, torch modes, hooks and timers the call left behind. Nothing
    here calls a method of a learner's object: types are checked exactly, so a
    lying object never gets to run code while facts are being recorded.
    """

    def __init__(
        self, watch_device: bool = False, settle: Callable[[], None] | None = None
    ) -> None:
        self.facts: dict[str, Any] = {}
        self.tensors: dict[str, Tensor] = {}
        self.watch_device = watch_device
        self._settle = settle
        self.kept: list[Any] = []  # the learner's objects, alive until the worker exits
        self._watched: list[tuple[Any, Any, backprop.Passes]] = []

    def watch(self, f: Any) -> Any:
        """``f`` as the learner receives it: the gradient passes through its outputs
        are counted (``backprop``) and recorded after the call as ``passes``, one
        count per watched function. The same ``f`` gives the same wrapper."""
        for original, wrapped, _passes in self._watched:
            if original is f:
                return wrapped
        passes = backprop.Passes()
        wrapped = backprop.watch(f, passes)
        self._watched.append((f, wrapped, passes))
        return wrapped

    def call(self, fn: Any, *args: Any) -> Any:
        """Call the learner's function; record the grad mode it leaves behind.

        With ``self.watch_device``, also record whether the result would have left the
        inputs' device (``device_taint``, see ``devicewatch``).
        """
        watch = None
        try:
            if self.watch_device:
                with DeviceWatch() as watch:
                    result = fn(*args)
            else:
                result = fn(*args)
            grad_mode = is_grad_enabled() is True  # no builtin the learner could replace
        finally:
            if self._settle is not None:
                self._settle()
        self.kept.append(result)
        if watch is not None:
            self.facts["device_taint"] = watch.why(result)
        self.facts["grad_mode_after"] = grad_mode
        if self._watched:
            self.facts["passes"] = [p.count for _f, _w, p in self._watched]
        return result

    def fact(self, key: str, value: Any) -> None:
        self.facts[key] = value

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A step of the probe's own work after the learner's call (a write-through
        test, say). An exception in it is the grader's, not the learner's: it is
        recorded under ``probe_failed`` (step name -> exception type) and the probe
        goes on, so the checks can say what could not be checked."""
        try:
            yield
        except Exception as exc:
            self.facts.setdefault("probe_failed", {})[name] = _type_name(exc)

    def settled(self, fn: Callable[[], Any]) -> Any:
        """Run the probe's own ``fn``, which may call learner code back (a hook left
        on an input, run by a later backward()); the world is settled after it, as
        after the learner's call. No fact changes."""
        try:
            return fn()
        finally:
            if self._settle is not None:
                self._settle()

    def tensor(self, key: str, t: Tensor | None) -> None:
        """Record a tensor the probe itself owns (an input's .grad, a param)."""
        if t is None:
            self.facts[key] = {"kind": "none"}
            return
        if type(t) is not _TENSOR:  # e.g. a subclass assigned to x.grad
            self.facts[key] = {"kind": "subclass", "type": _type_name(t)}
            return
        odd = unusual(t)
        if odd is not None:  # the wire carries plain dense real tensors only
            self.facts[key] = {"kind": "subclass", "type": odd}
            return
        self.facts[key] = tensor_facts(t)
        self.tensors[key] = cpu_copy(t)

    def value(self, key: str, obj: object, depth: int = 0) -> None:
        """Describe whatever the learner returned, without trusting it."""
        kind = type(obj)
        if kind is _TENSOR:
            self.tensor(key, obj)  # type: ignore[arg-type]
        elif _is_subclass(_TENSOR, kind):
            self.facts[key] = {"kind": "subclass", "type": _type_name(obj)}
        elif obj is None:
            self.facts[key] = {"kind": "none"}
        elif (kind is tuple or kind is list) and depth == 0:
            items = list(obj)[:MAX_ITEMS]  # type: ignore[call-overload]
            self.facts[key] = {"kind": kind.__name__, "len": len(obj)}  # type: ignore[arg-type]
            for i, item in enumerate(items):
                self.value(f"{key}.{i}", item, depth + 1)
            self._numbers(key, obj)
        elif kind is tuple or kind is list:  # a list inside the result: only its numbers
            self.facts[key] = {"kind": kind.__name__, "len": len(obj)}  # type: ignore[arg-type]
            self._numbers(key, obj)
        elif kind is int or kind is float or kind is bool:
            try:
                value = float(obj)  # type: ignore[arg-type]
            except OverflowError:  # an int beyond float range: not a gradient anyway
                value = float("inf")
            self.facts[key] = {"kind": "number", "type": kind.__name__, "value": value}
        elif kind is _NDARRAY:
            facts: dict[str, Any] = {
                "kind": "numpy",
                "type": "numpy.ndarray",
                "shape": [int(n) for n in obj.shape],  # type: ignore[attr-defined]
                "dtype": clean(str(obj.dtype), MAX_NAME),  # type: ignore[attr-defined]
            }
            if obj.dtype.kind in "biuf" and obj.size <= 1 << 16:  # type: ignore[attr-defined]
                arr = _np_array(obj, dtype=_np_float64, copy=True)
                self.tensors[key] = torch.from_numpy(arr)
            self.facts[key] = facts
        else:
            self.facts[key] = {"kind": "other", "type": _type_name(obj)}

    def _numbers(self, key: str, obj: object) -> None:
        """Record a (nested) list of plain numbers, like ``t.tolist()``, as a tensor, so
        the values can be checked while the type check reports the list."""
        budget = [1 << 16]
        flat = _plain_numbers(obj, budget)
        if flat is None:
            return
        try:
            self.tensors[key] = torch.tensor(flat, dtype=torch.float64)
        except (ValueError, TypeError, OverflowError, RuntimeError):
            pass  # ragged, or too large for float64


def _plain_numbers(obj: object, budget: list[int], depth: int = 0) -> Any:
    """``obj`` as nested lists of floats if it holds only exact lists, tuples and
    numbers (so no learner code runs), at most 4 deep and ``budget`` items; else None."""
    kind = type(obj)
    if kind is int or kind is float or kind is bool:
        budget[0] -= 1
        try:
            return float(obj)  # type: ignore[arg-type]
        except OverflowError:
            return None
    if (kind is list or kind is tuple) and depth < 4 and len(obj) <= budget[0]:  # type: ignore[arg-type]
        out = []
        for item in obj:  # type: ignore[attr-defined]
            value = _plain_numbers(item, budget, depth + 1)
            if value is None or budget[0] < 0:
                return None
            out.append(value)
        return out
    return None


def _type_name(obj: object) -> str:
    """``module.Qualname`` of ``obj``'s type, read without running the learner's code."""
    kind = type(obj)
    module = _type_module(kind)
    name = _type_qualname(kind)
    module = module if type(module) is str else "?"
    name = name if type(name) is str else "?"
    return clean(name if module == "builtins" else f"{module}.{name}", MAX_NAME)
