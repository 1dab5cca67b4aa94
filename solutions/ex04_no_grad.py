"""Exercise 4 (reference solution): evaluate f without recording a graph."""

import torch


def evaluate_without_grad(f, x):
    with torch.no_grad():  # restores the previous mode when the block ends
        return f(x)
