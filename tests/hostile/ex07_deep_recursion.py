"""Deep recursion with the recursion limit lifted, through C code (json.dumps of a
list nested 200,000 deep), so the C stack overflows and the process dies of
SIGSEGV (Python 3.12+ notices and raises RecursionError). The grader: 0,
and it goes on with the other exercises."""

import json
import sys


def gradient_descent(f, params, lr, steps):
    sys.setrecursionlimit(10**8)
    nested = []
    for _ in range(200_000):
        nested = [nested]
    return json.dumps(nested)
