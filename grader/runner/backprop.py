"""Whether a gradient flowed back through a hidden function's output.

Exercises 1-3 and 5-7 teach autograd, so a right number computed some other way
(finite differences, a derivative typed in by hand) must not earn the value
points. The probe hands the learner ``watch(f)`` instead of ``f``: it returns
f's output passed through ``_Mark``, an identity ``torch.autograd.Function``
whose backward (reverse mode) and jvp (forward mode) count each pass. Every
autograd route goes through one of them: ``backward()``, ``torch.autograd.grad``,
``torch.autograd.functional``, ``torch.func`` (grad, vjp, jacrev, jacfwd, vmap),
``torch.autograd.forward_ad``. Arithmetic on f's values never does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

_TENSOR = torch.Tensor


class Passes:
    """How many gradient passes went through the outputs of one watched function.
    (A plain object: torch.func flattens lists and dicts it is given, so a counter
    must not be one.)"""

    __slots__ = ("calls", "count")

    def __init__(self) -> None:
        self.calls = 0  # how often the function was called
        self.count = 0  # backward and forward-mode passes through its outputs


class _Mark(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap / jacrev batch through it

    @staticmethod
    def forward(y: torch.Tensor, passes: Passes) -> torch.Tensor:  # type: ignore[override]
        return y.clone()  # a new tensor: in-place work on it stays legal

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        ctx.passes = inputs[1]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        ctx.passes.count += 1
        return grad, None

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor, _passes: Any) -> torch.Tensor:  # type: ignore[override]
        ctx.passes.count += 1
        return tangent


def watch(f: Callable[..., Any], passes: Passes) -> Callable[..., Any]:
    """``f`` whose tensor output counts the gradient passes through it in ``passes``."""

    def watched(*args: Any) -> Any:
        passes.calls += 1
        out = f(*args)
        if type(out) is _TENSOR and out.is_floating_point():
            return _Mark.apply(out, passes)
        return out

    return watched
