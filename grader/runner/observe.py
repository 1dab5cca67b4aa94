"""What the worker records about a learner's function call, as plain data.

The probes in ``grader/checks`` call the learner's function and describe what
came back with a ``Recorder``. Attribute reads go through descriptors captured
from torch's C base class when this module is imported (before any learner code
runs), so monkeypatching ``torch.Tensor`` cannot change what is recorded.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

_TENSOR = torch.Tensor
_BASE = torch._C.TensorBase
_shape = _BASE.shape.__get__
_dtype = _BASE.dtype.__get__
_device = _BASE.device.__get__
_requires_grad = _BASE.requires_grad.__get__
_grad_fn = _BASE.grad_fn.__get__
_grad = _BASE.grad.__get__
_is_leaf = _BASE.is_leaf.__get__
_detach = _BASE.detach
_to = _BASE.to
_clone = _BASE.clone
_data_ptr = _BASE.data_ptr
_untyped_storage = _BASE.untyped_storage
is_grad_enabled = torch._C.is_grad_enabled

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


def storage_ptr(t: Tensor) -> int:
    """Address of the storage behind ``t`` (0 on the meta device)."""
    if _device(t).type == "meta":
        return 0
    return int(_untyped_storage(t).data_ptr())


def cpu_copy(t: Tensor) -> Tensor:
    return _clone(_to(_detach(t), "cpu"))


def grad_of(t: Tensor) -> Tensor | None:
    return _grad(t)


class Recorder:
    """Facts and tensors recorded for one case."""

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}
        self.tensors: dict[str, Tensor] = {}

    def call(self, fn: Any, *args: Any) -> Any:
        """Call the learner's function; record the grad mode it leaves behind."""
        result = fn(*args)
        self.facts["grad_mode_after"] = bool(is_grad_enabled())
        return result

    def fact(self, key: str, value: Any) -> None:
        self.facts[key] = value

    def tensor(self, key: str, t: Tensor | None) -> None:
        """Record a tensor the probe itself owns (an input's .grad, a param)."""
        if t is None:
            self.facts[key] = {"kind": "none"}
            return
        self.facts[key] = tensor_facts(t)
        if _device(t).type != "meta":
            self.tensors[key] = cpu_copy(t)

    def value(self, key: str, obj: object, depth: int = 0) -> None:
        """Describe whatever the learner returned, without trusting it."""
        kind = type(obj)
        if kind is _TENSOR:
            self.tensor(key, obj)  # type: ignore[arg-type]
        elif isinstance(obj, _TENSOR):
            self.facts[key] = {"kind": "subclass", "type": _type_name(obj)}
        elif obj is None:
            self.facts[key] = {"kind": "none"}
        elif kind in (tuple, list) and depth == 0:
            items = list(obj)[:MAX_ITEMS]  # type: ignore[call-overload]
            self.facts[key] = {"kind": kind.__name__, "len": len(obj)}  # type: ignore[arg-type]
            for i, item in enumerate(items):
                self.value(f"{key}.{i}", item, depth + 1)
        elif isinstance(obj, numbers.Real) and kind in (int, float, bool):
            self.facts[key] = {"kind": "number", "type": kind.__name__, "value": float(obj)}
        elif _type_name(obj) == "numpy.ndarray":
            facts: dict[str, Any] = {"kind": "numpy", "type": "numpy.ndarray"}
            try:
                import numpy as np

                arr = np.array(obj, dtype=np.float64, copy=True)
                if arr.size <= 1 << 16:
                    self.tensors[key] = torch.from_numpy(arr)
                    facts["shape"] = list(arr.shape)
            except Exception:
                pass
            self.facts[key] = facts
        else:
            self.facts[key] = {"kind": "other", "type": _type_name(obj)}


def _type_name(obj: object) -> str:
    kind = type(obj)
    try:
        module = str(kind.__module__)
        name = str(kind.__qualname__)
    except Exception:
        return "unknown"
    return name if module == "builtins" else f"{module}.{name}"
