"""Hanging in a long sleep while ignoring every signal that can be ignored
(SIGTERM, SIGALRM, SIGINT, SIGHUP, SIGXCPU, SIGUSR1...). The grader: "timed out", 0."""

import signal
import time


def vector_grad(f, x):
    for sig in signal.valid_signals():
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    time.sleep(10**6)
