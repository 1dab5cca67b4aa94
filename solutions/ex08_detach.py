"""Exercise 8 (reference solution): detach() shares storage."""


def detach_alias(x):
    return x.detach()  # same memory as x, but outside the graph
