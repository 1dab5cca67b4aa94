"""Exercise 7 (reference solution): plain gradient descent by hand."""

import torch


def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None  # clear last step's gradient (and any stale one)
        f(*params).mean().backward()
        with torch.no_grad():  # the update itself must not be recorded
            for p in params:
                if p.grad is not None:  # a parameter the loss does not use has none
                    p -= lr * p.grad  # each parameter from its own gradient
    return params
