"""Exercise 9 (reference solution): one trunk, one backward per head, retain_graph."""

import torch


def shared_trunk_grads(trunk, heads, x):
    x = x.detach().requires_grad_(True)
    z = trunk(x)  # the expensive part runs once; every head builds on the same graph
    grads = []
    for head in heads:
        # retain_graph=True keeps the trunk's saved tensors for the next head's pass
        (g,) = torch.autograd.grad(head(z).sum(), x, retain_graph=True)
        grads.append(g)  # autograd.grad returns a new tensor each time: no copies needed
    return grads
