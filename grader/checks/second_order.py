"""Whether a Hessian-vector product came from second-order autograd (exercise 10).

Used to explain a wrong number only: right values are second-order autograd's
already, because the hidden functions carry a ripple on their gradients that
differences of gradients cannot miss (``grader.functions.guarded``), and the
forward-over-forward and reverse-over-forward routes of ``torch.func`` never
pass through the marker below.

``grader.runner.backprop`` counts gradient passes through a function's output,
which tells autograd from arithmetic for first derivatives. A second derivative
can still be faked from first ones: finite differences of two autograd
gradients, ``(grad(x + h*v) - grad(x - h*v)) / 2h``, are close enough in float64.

So exercise 10's f receives its input through ``_Input``, an identity
``torch.autograd.Function`` whose backward hands the gradient on through
``_Second``, another identity. ``_Second`` is recorded in the graph only while a
backward pass itself builds a graph (``create_graph=True``, ``torch.func``,
``torch.autograd.functional``); its backward or jvp runs only when that gradient
is differentiated once more. ``Passes.count`` counts those runs: every route to
H·v (double backward, ``torch.func.jvp`` of ``torch.func.grad``, ``hessian``,
``torch.autograd.functional.hvp``/``vhp``/``hessian``, forward over reverse with
``torch.autograd.forward_ad``) counts at least one; finite differences of
gradients and Hessians written by hand count none.

This runs in the sandboxed worker; the module is imported before learner code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from grader.runner.backprop import Passes


class _Second(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.hessian / vmap batch through it

    @staticmethod
    def forward(grad: torch.Tensor, passes: Passes) -> torch.Tensor:  # type: ignore[override]
        return grad.clone()

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


class _Input(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, passes: Passes) -> torch.Tensor:  # type: ignore[override]
        return x.clone()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        ctx.passes = inputs[1]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return _Second.apply(grad, ctx.passes), None

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor, _passes: Any) -> torch.Tensor:  # type: ignore[override]
        return tangent


def watch(f: Callable[..., Any], passes: Passes) -> Callable[..., Any]:
    """``f`` whose input counts, in ``passes.count``, the passes that differentiate
    its gradient once more."""

    def watched(x: Any) -> Any:
        passes.calls += 1
        if isinstance(x, torch.Tensor) and x.is_floating_point():  # nn.Parameter too
            x = _Input.apply(x, passes)
        return f(x)

    return watched
