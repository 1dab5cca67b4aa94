"""A correct function that exhausts file descriptors (opens /dev/null until the
system refuses) and keeps them open, hoping the grader cannot send its answer.
The grader: full marks."""

import os

import torch

_held = []


def evaluate_without_grad(f, x):
    try:
        while len(_held) < 100000:
            _held.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    with torch.no_grad():
        return f(x)
