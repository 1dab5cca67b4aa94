"""Crashing the interpreter: os.abort() raises SIGABRT. The grader: 0, "crashed"."""

import os


def fresh_grads(fs, x):
    os.abort()
