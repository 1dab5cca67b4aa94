"""Derivatives the references need, taken one scalar at a time.

``torch.autograd.grad`` with ``grad_outputs`` (and so ``torch.autograd.functional``)
imports ``torch.fx.experimental.symbolic_shapes`` the first time, about half a
second, which every grading would pay. Backward passes from scalars do not, and
give the same numbers.
"""

from __future__ import annotations

import torch


def jacobian(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d y / d x as a (y.numel(), x.numel()) matrix; ``y`` must hang off ``x``'s graph."""
    flat = y.reshape(-1)
    keep = {"retain_graph": True, "allow_unused": True, "materialize_grads": True}
    rows = [torch.autograd.grad(flat[i], x, **keep)[0] for i in range(flat.numel())]
    return torch.stack([r.reshape(-1) for r in rows]) if rows else x.new_zeros(0, x.numel())


def vjp(y: torch.Tensor, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The gradient of ``(y * weights).sum()`` w.r.t. ``x`` (what ``grad_outputs=weights``
    gives), keeping the graph of ``y`` (``create_graph`` stays as ``y`` was made)."""
    (g,) = torch.autograd.grad((y * weights).sum(), x)
    return g
