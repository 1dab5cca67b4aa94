"""Raising an exception with a 1 MB message, so that every report would be a
megabyte per check. The grader: 0 points, and the message is cut (with an
ellipsis) to a few hundred characters in every format."""


def vector_grad(f, x):
    raise RuntimeError("A" * (1 << 20))
