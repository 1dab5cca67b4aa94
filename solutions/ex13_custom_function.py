"""Exercise 13 (reference solution): rounding with a straight-through gradient."""

import torch


def round_ste(x):
    class RoundSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.round(x)  # the value: rounded, halves to even

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output  # the gradient: passed on as if rounding were the identity

    return RoundSTE.apply(x)
