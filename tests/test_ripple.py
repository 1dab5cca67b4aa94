"""Only autograd gets the right number: the hidden functions carry a ripple that
autograd never sees and finite differences of any step always do
(``grader.functions.guarded``)."""

from __future__ import annotations

import pytest
import torch

from grader import functions

SINGLE = ["seed_poly", "cubic", "trig", "exp_log", "quotient", "norm", "coupled_cos", "bump"]
WEIGHTS = {
    "a": torch.tensor(0.7, dtype=torch.float64),
    "b": torch.tensor(1.3, dtype=torch.float64),
    "c": torch.tensor(-0.4, dtype=torch.float64),
    "u": torch.tensor([0.3, -0.8, 0.5], dtype=torch.float64),
    "t": torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64),
}
X = torch.tensor([0.37, -1.21, 0.88], dtype=torch.float64)


def grad_of(fn: functions.Fn, x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(fn(leaf).sum(), leaf)
    return g


@pytest.mark.parametrize("name", SINGLE)
def test_autograd_sees_the_function_itself(name: str) -> None:
    raw = functions.BUILDERS[name](WEIGHTS)
    fn = functions.build(name, WEIGHTS)
    assert torch.allclose(fn(X), raw(X), rtol=1e-8, atol=1e-8)  # the values barely move
    if name in functions.SECOND_ORDER:  # the ripple rides on the gradient: tiny there too
        assert torch.allclose(grad_of(fn, X), grad_of(raw, X), rtol=1e-8, atol=1e-8)
    else:
        assert torch.equal(grad_of(fn, X), grad_of(raw, X))  # exactly autograd's number


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("h", [1e-4, 1e-6, 1e-8, 1e-10])
def test_central_differences_miss_by_far_more_than_any_tolerance(name: str, h: float) -> None:
    fn = functions.build(name, WEIGHTS)
    exact = grad_of(fn, X)
    numeric = torch.zeros_like(X)
    for i in range(X.numel()):
        step = torch.zeros_like(X)
        step[i] = h
        numeric[i] = (fn(X + step).sum() - fn(X - step).sum()) / (2 * h)
    assert (numeric - exact).abs().max() > 1e-6 * (1 + exact.abs().max())


def test_second_differences_of_gradients_miss_the_hessian() -> None:
    fn = functions.build("coupled_cos", WEIGHTS)
    v = torch.tensor([0.2, 0.5, -0.1], dtype=torch.float64)
    leaf = X.detach().requires_grad_()
    (g,) = torch.autograd.grad(fn(leaf), leaf, create_graph=True)
    (hv,) = torch.autograd.grad(g, leaf, v)
    h = 1e-6
    numeric = (grad_of(fn, X + h * v) - grad_of(fn, X - h * v)) / (2 * h)
    assert (numeric - hv).abs().max() > 1e-6
