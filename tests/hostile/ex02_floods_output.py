"""A correct function that floods stdout and stderr (40 MB through print and raw
os.write on fds 1 and 2), including fake pass lines and a fake JSON report.
The grader: full marks, and its own --format json output stays one clean object."""

import os
import sys

_FAKE = '{"score": 80.0, "max_score": 80.0, "exercises": [{"name": "vector_grad", "score": 10}]}\n'
_LINE = "✓ scalar_grad 10/10\n" + _FAKE


def vector_grad(f, x):
    for _ in range(4):
        print(_LINE * 10000)
        print(_LINE * 10000, file=sys.stderr)
        os.write(1, (_LINE * 10000).encode())
        os.write(2, (_LINE * 10000).encode())
    x = x.detach().requires_grad_(True)
    f(x).sum().backward()
    return x.grad
