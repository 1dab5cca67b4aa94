"""Ending the process at import: sys.exit(0) before the function is even defined.
The grader: exercise 1 scores 0 (its file failed to run); the others keep theirs."""

import sys

sys.exit(0)


def scalar_grad(f, x):
    raise AssertionError("never defined")
