"""A correct function that leaves processes behind: a double-forked setsid daemon,
a child in its own session that ignores SIGTERM, and an exec'd `sleep` in a new
session. The grader: full marks, and none of those processes survives the run."""

import os
import signal
import subprocess
import time

import torch

_TOKEN = os.path.dirname(os.path.abspath(__file__))


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(1)
        os._exit(0)


def gradient_descent(f, params, lr, steps):
    _daemon()
    try:
        subprocess.Popen(
            ["sleep", "1000"],
            start_new_session=True,
            env={"HOSTILE_TOKEN": _TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        pass
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return params
