"""A correct function that tampers with what lies beside the submission: rewrites
another exercise file (ex01) to a wrong answer, the canary file, writes fake
report files (results.json, report.xml) into the submission folder, its parent
and its working directory, and changes the folder's permissions.
The grader: full marks for every exercise, and nothing outside its scratch folder
changes."""

import os

_SUBMISSION = os.path.dirname(os.path.abspath(__file__))
_BASE = os.path.dirname(_SUBMISSION)
_WRONG = "def scalar_grad(f, x):\n    return x\n"
_FAKE = '{"score": 80.0, "max_score": 80.0}'


def _tamper():
    targets = {
        os.path.join(_SUBMISSION, "ex01_scalar_grad.py"): _WRONG,
        os.path.join(_BASE, "canary.txt"): "changed",
        os.path.join(_SUBMISSION, "results.json"): _FAKE,
        os.path.join(_BASE, "results.json"): _FAKE,
        os.path.join(_BASE, "PWNED-beside"): "",
        "results.json": _FAKE,
        "report.xml": "<testsuite failures='0'/>",
    }
    for path, text in targets.items():
        try:
            with open(path, "w") as fh:
                fh.write(text)
        except OSError:
            pass
    for path in (_SUBMISSION, _BASE):
        try:
            os.chmod(path, 0o777)
        except OSError:
            pass


def fresh_grads(fs, x):
    _tamper()
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()
        f(x).sum().backward()
        grads.append(x.grad.clone())
    return grads
