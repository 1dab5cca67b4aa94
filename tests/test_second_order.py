"""Exercise 10's evidence of second-order autograd, tested on its own: every route
to H·v differentiates the gradient again, and no route through first derivatives
alone does (``grader.checks.second_order``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.autograd.forward_ad as fwad
from torch.func import grad, hessian, jvp, vjp

from grader.checks import second_order
from grader.runner.backprop import Passes

U = torch.tensor([0.7, -0.4, 1.1, 0.3], dtype=torch.float64)
X = torch.tensor([[0.5, -1.2], [0.8, 0.1]], dtype=torch.float64)
V = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=torch.float64)


def f(x: torch.Tensor) -> torch.Tensor:
    return torch.cos((x.reshape(-1) * U).sum()) + (x**4).sum() / 12


def _double_backward(f: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    return torch.autograd.grad(g, leaf, grad_outputs=v)[0]


def _backward_twice(f: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    (g * v).sum().backward()
    return leaf.grad


def _forward_over_reverse(f: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_()
    with fwad.dual_level():
        dual = fwad.make_dual(leaf, v)
        (g,) = torch.autograd.grad(f(dual), dual, create_graph=True)
        return fwad.unpack_dual(g).tangent


def _full_hessian(h: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    n = v.numel()
    return (h.reshape(n, n) @ v.reshape(n)).reshape(v.shape)


SECOND_ORDER: dict[str, Callable] = {
    "double backward": _double_backward,
    "backward() on g.v": _backward_twice,
    "torch.func.jvp of grad": lambda f, x, v: jvp(grad(f), (x,), (v,))[1],
    "torch.func.vjp of grad": lambda f, x, v: vjp(grad(f), x)[1](v)[0],
    "torch.func.hessian": lambda f, x, v: _full_hessian(hessian(f)(x), v),
    "autograd.functional.hvp": lambda f, x, v: torch.autograd.functional.hvp(f, x, v)[1],
    "autograd.functional.vhp": lambda f, x, v: torch.autograd.functional.vhp(f, x, v)[1],
    "autograd.functional.hessian": lambda f, x, v: _full_hessian(
        torch.autograd.functional.hessian(f, x), v
    ),
    "forward over reverse": _forward_over_reverse,
}


def _first_gradient(f: Callable, x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_()
    return torch.autograd.grad(f(leaf), leaf)[0]


def _finite_differences(f: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    h = 1e-5
    return (_first_gradient(f, x + h * v) - _first_gradient(f, x - h * v)) / (2 * h)


@pytest.mark.parametrize("style", SECOND_ORDER)
def test_every_route_to_hvp_counts(style: str) -> None:
    passes = Passes()
    got = SECOND_ORDER[style](second_order.watch(f, passes), X, V)
    assert passes.count >= 1
    want = _double_backward(f, X, V)
    assert torch.allclose(got.detach(), want, rtol=1e-9, atol=1e-12)


def test_first_derivatives_alone_do_not_count() -> None:
    passes = Passes()
    watched = second_order.watch(f, passes)
    got = _finite_differences(watched, X, V)
    assert torch.allclose(got, _double_backward(f, X, V), rtol=1e-6)  # right, in float64
    _first_gradient(watched, X)
    leaf = X.detach().requires_grad_()
    torch.autograd.grad(watched(leaf), leaf, create_graph=True)  # a graph, never used
    assert passes.count == 0
