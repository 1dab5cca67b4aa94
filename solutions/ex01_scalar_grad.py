"""Exercise 1 (reference solution): the derivative of a scalar function."""


def scalar_grad(f, x):
    x = x.detach().requires_grad_(True)  # a fresh leaf that autograd tracks
    y = f(x)  # recording builds the graph y = f(x)
    y.backward()  # dy/dx lands in x.grad
    return x.grad
