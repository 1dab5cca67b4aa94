"""Hanging while catching everything: a SIGALRM/SIGTERM handler that re-arms a timer,
and a loop that swallows every BaseException (KeyboardInterrupt, SystemExit...).
The grader: "timed out", 0."""

import signal
import time


def _again(signum, frame):
    signal.setitimer(signal.ITIMER_REAL, 0.05)


def evaluate_without_grad(f, x):
    signal.signal(signal.SIGALRM, _again)
    signal.signal(signal.SIGTERM, _again)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    while True:
        try:
            time.sleep(1)
        except BaseException:
            pass
