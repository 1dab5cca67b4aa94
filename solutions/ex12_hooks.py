"""Exercise 12 (reference solution): a hook on y clamps the gradient passing through it."""


def clipped_grad(f, g, x, c):
    x = x.detach().requires_grad_(True)
    y = f(x)
    # A hook receives the gradient arriving at y; what it returns flows on through f.
    y.register_hook(lambda grad: grad.clamp(-c, c))
    g(y).sum().backward()
    return x.grad
