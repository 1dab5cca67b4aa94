"""A correct function whose module leaves traps for later: an atexit handler and
finalizers (__del__, also on a reference cycle left to the garbage collector)
that print a fake report and end the process. The worker never runs them (it
keeps learners' objects alive and leaves with os._exit): full marks."""

import atexit
import gc
import os
import sys


def _fake_result():
    print('{"score": 80.0, "max_score": 80.0, "exercises": []}')
    sys.stdout.flush()
    os._exit(0)


atexit.register(_fake_result)


class Trap:
    def __del__(self):
        _fake_result()


_keep = Trap()


def accumulated_grad(f, x, times):
    cycle = Trap()
    cycle.me = cycle  # freed only by the cyclic garbage collector, at any later moment
    del cycle
    gc.disable()
    for _ in range(times):
        f(x).sum().backward()
    return x.grad
