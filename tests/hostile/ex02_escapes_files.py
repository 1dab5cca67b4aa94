"""A correct function that also tries to leave files outside its scratch folder:
a file named after the run goes to folders anyone may write that the test made
(one in /tmp, one elsewhere), the real home folder of the user running grade,
the submission's folder and the folder around it, site-packages, the installed
grader package and /, each also through /proc/self/root.
The grader: full marks, and none of those files exists afterwards. A write that
succeeds makes the function raise, naming it, so a leak also costs the points."""

import os
import sysconfig

import grader

TARGETS: dict = {}  # tests/test_sandbox.py writes its folders here


def _places() -> list:
    here = os.path.dirname(os.path.abspath(__file__))
    return [
        *TARGETS["world"],
        TARGETS["home"],
        here,
        os.path.dirname(here),
        sysconfig.get_paths()["purelib"],
        os.path.dirname(os.path.abspath(grader.__file__)),
        "/",
    ]


def _escapes() -> list:
    name = "escaped-" + TARGETS["token"]
    got = []
    for place in _places():
        target = os.path.join(place, name)
        for path in (target, "/proc/self/root" + target):
            try:
                with open(path, "x") as fh:
                    fh.write("written by a learner's code\n")
                got.append(path)
            except OSError:
                pass
    return got


def vector_grad(f, x):
    escaped = _escapes()
    if escaped:
        raise RuntimeError(f"escaped: {', '.join(escaped)}")
    x = x.detach().requires_grad_(True)
    f(x).sum().backward()
    return x.grad
