"""The differentiable functions that hidden inputs are built from.

Both sides use this module: the trusted process draws a function name and its
weights, the learner's process rebuilds the same function from them. Builders
take a dict of weight tensors and return the function. Every function is smooth
on the domains the checks draw from, so reference gradients are well conditioned.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Fn = Callable[..., Tensor]
Builder = Callable[[dict[str, Tensor]], Fn]


def _seed_poly(w: dict[str, Tensor]) -> Fn:
    return lambda x: x**2 + 2 * x + 7


def _cubic(w: dict[str, Tensor]) -> Fn:
    a, b, c = w["a"], w["b"], w["c"]
    return lambda x: a * x**3 - b * x + c


def _trig(w: dict[str, Tensor]) -> Fn:
    a, b = w["a"], w["b"]
    return lambda x: torch.sin(a * x) + b * torch.cos(x)


def _exp_log(w: dict[str, Tensor]) -> Fn:
    a = w["a"]
    return lambda x: torch.exp(a * x) + torch.log(1 + x * x)


def _quotient(w: dict[str, Tensor]) -> Fn:
    a = w["a"]
    return lambda x: x / (1 + x * x) + a * x


def _scaled_tanh(w: dict[str, Tensor]) -> Fn:
    s = w["s"]  # same shape as x: a weight the function closes over
    return lambda x: s * torch.tanh(x) + x


def _mean_square(w: dict[str, Tensor]) -> Fn:
    a = w["a"]
    return lambda x: a * (x * x).mean() + x.sum()


def _broadcast(w: dict[str, Tensor]) -> Fn:
    v = w["v"]  # shape (x.shape[-1],): broadcast along the last dim
    return lambda x: torch.sin(x * v) + x * x


def _norm(w: dict[str, Tensor]) -> Fn:
    a = w["a"]  # a reduction to one number: sqrt(1 + |x|^2) is smooth everywhere
    return lambda x: a * torch.sqrt(1 + (x * x).sum())


def _matmul(w: dict[str, Tensor]) -> Fn:
    m = w["m"]  # shape (x.shape[-1], k) with k != x.shape[-1]: the last dim changes
    return lambda x: torch.tanh(x @ m) + 0.5 * x.sum(-1, keepdim=True)


def _rowwise(w: dict[str, Tensor]) -> Fn:
    a = w["a"]  # a reduction along the last dim only: (..., n) -> (...)
    return lambda x: a * torch.sqrt(1 + (x * x).sum(-1)) + x.sum(-1)


def _outer(w: dict[str, Tensor]) -> Fn:
    v = w["v"]  # shape (k,): the output gains a dim, (...) -> (..., k)
    return lambda x: torch.sin(x.unsqueeze(-1) * v) + x.unsqueeze(-1) ** 2


# Functions of several inputs (exercise 3). Inputs broadcast against each other.
def _seed_pair(w: dict[str, Tensor]) -> Fn:
    return lambda a, b: a**2 + 2 * a + 7 + b**2


def _product(w: dict[str, Tensor]) -> Fn:
    return lambda a, b: a * b + torch.sin(a)


def _ratio(w: dict[str, Tensor]) -> Fn:
    return lambda a, b: a / (1 + b * b)


def _ignores_second(w: dict[str, Tensor]) -> Fn:
    return lambda a, b: a**3 - 2 * a


def _outer_pair(w: dict[str, Tensor]) -> Fn:
    # a: (n,), b: (m,) -> (n, m), a shape like neither input
    return lambda a, b: torch.tanh(a.unsqueeze(-1) * b) + a.unsqueeze(-1) ** 2


def _three_way(w: dict[str, Tensor]) -> Fn:
    k = w["k"]
    return lambda a, b, c: a**2 * b + k * c**3 - torch.cos(b)


# Losses over parameters (exercise 7).
def _seed_loss(w: dict[str, Tensor]) -> Fn:
    return lambda w1, w2: w1**2 + w2**2 + 2 * w1 + 2 * w2 + 100


def _regression(w: dict[str, Tensor]) -> Fn:
    x, y = w["x"], w["y"]  # x: (n, d), y: (n,)
    return lambda weight, bias: (x @ weight + bias - y) ** 2


def _coupled(w: dict[str, Tensor]) -> Fn:
    t = w["t"]
    return lambda p, q, r: (p - t) ** 2 + (q.sum() - 1) ** 2 + (r * p.mean()) ** 2 + r**2


def _unused_param(w: dict[str, Tensor]) -> Fn:
    t = w["t"]  # u is not used: its gradient is None, so it must not move
    return lambda p, q, u: (p * t - 1) ** 2 + (q * q).sum()


# unit 2: exercises 9-12
# Scalar functions of x (any shape) whose Hessian couples the elements of x (it is
# not diagonal) and changes from point to point (it is not constant), for
# Hessian-vector products (exercise 10).
def _coupled_cos(w: dict[str, Tensor]) -> Fn:
    u = w["u"]  # shaped like x: the cosine couples every pair of elements
    return lambda x: torch.cos((x * u).sum()) + (x**4).sum() / 12


def _bump(w: dict[str, Tensor]) -> Fn:
    a, t = w["a"], w["t"]  # t shaped like x: the centre of the bump
    return lambda x: a / (1 + ((x - t) ** 2).sum())


# unit 2: exercises 13-16
# Vector functions of a 1-d x (exercise 14): (n,) -> (m,), every output mixing
# several inputs (A is (m, n)), so the Jacobian is not diagonal and its transpose
# is a different matrix even when m == n.
def _jac_tanh(w: dict[str, Tensor]) -> Fn:
    a, c = w["A"], w["c"]
    return lambda x: torch.tanh(a @ x) + c * (x * x).sum()


def _jac_softplus(w: dict[str, Tensor]) -> Fn:
    a, b = w["A"], w["b"]  # b: (m,)
    return lambda x: torch.nn.functional.softplus(a @ x) + b * x.mean()


def _jac_sin(w: dict[str, Tensor]) -> Fn:
    a, c = w["A"], w["c"]
    return lambda x: torch.sin(a @ x) * (1 + c * x[0])


BUILDERS: dict[str, Builder] = {
    "seed_poly": _seed_poly,
    "cubic": _cubic,
    "trig": _trig,
    "exp_log": _exp_log,
    "quotient": _quotient,
    "scaled_tanh": _scaled_tanh,
    "mean_square": _mean_square,
    "broadcast": _broadcast,
    "norm": _norm,
    "matmul": _matmul,
    "rowwise": _rowwise,
    "outer": _outer,
    "seed_pair": _seed_pair,
    "product": _product,
    "ratio": _ratio,
    "ignores_second": _ignores_second,
    "three_way": _three_way,
    "outer_pair": _outer_pair,
    "seed_loss": _seed_loss,
    "regression": _regression,
    "coupled": _coupled,
    "unused_param": _unused_param,
    # unit 2: exercises 9-12
    "coupled_cos": _coupled_cos,
    "bump": _bump,
    # unit 2: exercises 13-16
    "jac_tanh": _jac_tanh,
    "jac_softplus": _jac_softplus,
    "jac_sin": _jac_sin,
}


def build(name: str, weights: dict[str, Tensor]) -> Fn:
    """The function called ``name`` closing over ``weights``, with ``guarded``'s
    ripple added (``through_gradient`` for the functions exercise 10 uses)."""
    return guarded(BUILDERS[name](weights), through_gradient=name in SECOND_ORDER)


# Only autograd gets the right number. Each function's value carries a ripple of
# relative size 2**-30 that oscillates 2**30 times faster than the function:
# autograd never sees it (it is computed from detached values), but a finite
# difference of any step does, since its slope is as large as the function's own
# (EPS * OMEGA = 1). A derivative taken by hand from the formula shown in the
# feedback is exact, as autograd's is. For the second-order exercise, a ripple
# of the same kind rides on the gradient itself (``x * ripple(x).detach()``: its
# gradient is the ripple, its second derivative nothing), so finite differences
# of gradients miss the Hessian too. The values change by about 1e-9, so they
# print as before; the reference is computed through the same function.
EPS = 2.0**-30
OMEGA = 2.0**30
SECOND_ORDER = frozenset({"norm", "coupled_cos", "bump"})


def _ripple(t: Tensor) -> Tensor:
    base = t.detach()
    return EPS * (1 + base.abs()) * torch.sin(OMEGA * base)


def guarded(fn: Fn, *, through_gradient: bool = False) -> Fn:
    def f(*xs: Tensor) -> Tensor:
        out = fn(*xs)
        out = out + _ripple(out)
        if through_gradient:
            for x in xs:
                out = out + (x * _ripple(x)).sum()
        return out

    return f


# The names the formulas below give the inputs of functions of several inputs.
INPUT_NAMES: dict[str, tuple[str, ...]] = {
    "seed_pair": ("a", "b"),
    "product": ("a", "b"),
    "ratio": ("a", "b"),
    "ignores_second": ("a", "b"),
    "three_way": ("a", "b", "c"),
    "outer_pair": ("a", "b"),
    "seed_loss": ("w1", "w2"),
    "regression": ("weight", "bias"),
    "coupled": ("p", "q", "r"),
    "unused_param": ("p", "q", "u"),
    # unit 2: exercises 9-12 (their functions take one input: none to name)
    # unit 2: exercises 13-16 (none: every function there has one input)
}

# How each function reads in feedback (weights keep their names).
FORMULAS: dict[str, str] = {
    "seed_poly": "x**2 + 2*x + 7",
    "cubic": "a*x**3 - b*x + c",
    "trig": "sin(a*x) + b*cos(x)",
    "exp_log": "exp(a*x) + log(1 + x**2)",
    "quotient": "x / (1 + x**2) + a*x",
    "scaled_tanh": "s * tanh(x) + x",
    "mean_square": "a * mean(x**2) + sum(x)",
    "broadcast": "sin(x * v) + x**2",
    "norm": "a * sqrt(1 + sum(x**2))",
    "matmul": "tanh(x @ m) + 0.5 * x.sum(-1, keepdim=True)",
    "rowwise": "a * sqrt(1 + (x**2).sum(-1)) + x.sum(-1)",
    "outer": "sin(x[..., None] * v) + x[..., None]**2",
    "seed_pair": "a**2 + 2*a + 7 + b**2",
    "product": "a*b + sin(a)",
    "ratio": "a / (1 + b**2)",
    "ignores_second": "a**3 - 2*a  (b unused)",
    "three_way": "a**2 * b + k*c**3 - cos(b)",
    "outer_pair": "tanh(a[:, None] * b) + a[:, None]**2",
    "seed_loss": "w1**2 + w2**2 + 2*w1 + 2*w2 + 100",
    "regression": "(x @ weight + bias - y)**2",
    "coupled": "(p - t)**2 + (q.sum() - 1)**2 + (r * p.mean())**2 + r**2",
    "unused_param": "(p*t - 1)**2 + sum(q**2)  (u unused)",
    # unit 2: exercises 9-12
    "coupled_cos": "cos(sum(u * x)) + sum(x**4) / 12",
    "bump": "a / (1 + sum((x - t)**2))",
    # unit 2: exercises 13-16
    "jac_tanh": "tanh(A @ x) + c * sum(x**2)",
    "jac_softplus": "softplus(A @ x) + b * mean(x)",
    "jac_sin": "sin(A @ x) * (1 + c * x[0])",
}
