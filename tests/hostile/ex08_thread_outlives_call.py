"""A correct function that starts a thread which outlives the call and keeps
patching torch while the grader records the result, so that a copy would look
like an alias. The grader: 0, "a thread was still running"."""

import threading
import time

import torch


def _meddle():
    while True:
        torch.allclose = lambda *args, **kwargs: True
        time.sleep(0.001)


def detach_alias(x):
    threading.Thread(target=_meddle, daemon=True).start()
    return x.detach().clone()  # a copy, not an alias: only the thread's lie could pass it
