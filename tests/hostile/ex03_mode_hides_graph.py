"""Right values that still require grad (create_graph=True), hidden by a global
__torch_function__ mode left active after the call: it answers requires_grad=False
and grad_fn=None for every tensor, so the result would look detached.
The grader: values and type pass, side effects fail."""

import torch
from torch.overrides import TorchFunctionMode


class HideGraph(TorchFunctionMode):
    def __torch_function__(self, op, types, args=(), kwargs=None):
        owner = getattr(op, "__objclass__", None) or getattr(op, "__self__", None)
        name = getattr(op, "__name__", "")
        text = f"{name} {owner} {op}"
        if "requires_grad" in text and "requires_grad_" not in text:
            return False
        if "grad_fn" in text:
            return None
        return op(*args, **(kwargs or {}))


def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_(True) for x in xs]
    y = f(*leaves).sum()
    grads = torch.autograd.grad(y, leaves, allow_unused=True, create_graph=True)
    out = tuple(
        torch.zeros_like(x) + 0 * x if g is None else g for x, g in zip(leaves, grads, strict=True)
    )
    HideGraph().__enter__()  # never exited: still active when the grader looks
    return out
