"""A correct function that tampers with the grader: appends to the installed
package's files (a check module, the registry), drops a conftest.py and a .pyc
into it, edits torch's own files, and changes its environment (PYTEST_ADDOPTS,
PYTHONPATH), working directory and umask. The grader: full marks for every
exercise, and no installed file changes."""

import os

import torch

import grader

_PACKAGE = os.path.dirname(os.path.abspath(grader.__file__))
_TORCH = os.path.dirname(os.path.abspath(torch.__file__))
_TOKEN = f"\n# {os.path.dirname(os.path.abspath(__file__))}\n"  # the test looks for it


def _tamper():
    writes = {
        os.path.join(_PACKAGE, "checks", "ex07_manual_update.py"): _TOKEN + "raise SystemExit\n",
        os.path.join(_PACKAGE, "registry.py"): _TOKEN + "EXERCISES = ()\n",
        os.path.join(_PACKAGE, "checks", "conftest.py"): _TOKEN + "collect_ignore_glob = ['*']\n",
        os.path.join(_PACKAGE, "__pycache__", "registry.cpython-311.pyc"): _TOKEN,
        os.path.join(_TORCH, "version.py"): _TOKEN + "raise SystemExit\n",
    }
    for path, text in writes.items():
        try:
            with open(path, "a") as fh:
                fh.write(text)
        except OSError:
            pass
    os.environ["PYTEST_ADDOPTS"] = "--collect-only"
    os.environ["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
    os.umask(0)
    try:
        os.chdir("/")
    except OSError:
        pass


def gradient_descent(f, params, lr, steps):
    _tamper()
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return params
