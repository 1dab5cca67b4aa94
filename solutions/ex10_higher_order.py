"""Exercise 10 (reference solution): a Hessian-vector product by double backward."""

import torch


def hvp(f, x, v):
    x = x.detach().requires_grad_(True)
    # create_graph=True records how the gradient itself was computed ...
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    # ... so it can be differentiated once more: d(g . v)/dx = H v
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)
    return hv
