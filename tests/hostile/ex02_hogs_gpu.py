"""On a GPU: a correct function that starts, in a new session, a fresh Python that
takes 4 GB of GPU memory and sleeps forever. The grader: full marks, and when the
run ends no process of it is left and the GPU memory is free again."""

import os
import subprocess
import sys

_TOKEN = os.path.dirname(os.path.abspath(__file__))
_HOG = """
import time, torch
hog = torch.empty(4 << 30, dtype=torch.uint8, device="cuda")
open("hog-ready", "w").close()
while True:
    time.sleep(1)
"""


def vector_grad(f, x):
    subprocess.Popen(
        [sys.executable, "-c", _HOG],
        start_new_session=True,
        env={"HOSTILE_TOKEN": _TOKEN, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    x = x.detach().requires_grad_(True)
    f(x).sum().backward()
    for _ in range(400):  # wait (at most 8 s) until the hog holds its memory
        if os.path.exists("hog-ready"):
            break
        __import__("time").sleep(0.02)
    return x.grad
