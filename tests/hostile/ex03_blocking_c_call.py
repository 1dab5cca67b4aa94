"""Hanging inside C: reading a pipe that this process itself keeps open, so the
read never returns and no Python code runs that a signal handler could interrupt.
The grader: "timed out", 0."""

import os
import signal


def partial_grads(f, *xs):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    read_end, _write_end = os.pipe()
    os.read(read_end, 1)
