"""Modules a worker imports for the learner before it gives up its privileges.

When the grader runs as root, workers switch to an unprivileged user, who may not
be able to read the Python installation (e.g. one under /root). Modules that the
zygote has not imported would then fail to import. Before the switch, the worker
imports, as the grader, the modules the learner's source names from an allowlist
of trusted packages, and torch._dynamo when the source uses torch.func or
torch.compile (they import it on first use; it costs about a second, so only
sources that need it pay for it). Forward-mode AD (``jacfwd``, ``jvp``,
``forward_ad``) scripts a helper with TorchScript on first use, which reads
Python's own source files: a source that names it gets one tiny forward-mode
call first (0.1 s), while those files can still be read. A gradient handed to
autograd (``backward(g)``, ``grad_outputs``, ``torch.autograd.functional``)
makes torch import ``torch.fx.experimental.symbolic_shapes`` on first use, about
half a second: a source that does that gets it imported here, outside the
learner's time.
"""

from __future__ import annotations

import ast
import importlib

ALLOWED_ROOTS = frozenset(
    {
        "torch",
        "numpy",
        "math",
        "cmath",
        "functools",
        "itertools",
        "collections",
        "typing",
        "statistics",
        "fractions",
        "decimal",
        "copy",
        "operator",
        "random",
        "dataclasses",
        "contextlib",
        "warnings",
        "functorch",
    }
)
NEEDS_DYNAMO = frozenset(
    {"func", "functorch", "compile", "vmap", "jacrev", "jacfwd", "hessian", "grad_and_value"}
)


def modules_for(source: str) -> list[str]:
    """Allowlisted modules that ``source`` imports, plus torch._dynamo if needed."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    dynamo = False
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in NEEDS_DYNAMO:
            dynamo = dynamo or _names_torch(node.value)
        for name in names:
            if name.split(".")[0] in ALLOWED_ROOTS:
                found.append(name)
            if any(part in NEEDS_DYNAMO for part in name.split(".")):
                dynamo = True
    if dynamo:
        found.append("torch._dynamo")
    return found


def _names_torch(node: ast.expr) -> bool:
    """``torch.func``, ``torch.compile``, ``torch.func.vmap``: rooted at torch/functorch."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ("torch", "functorch")


FORWARD_MODE = ("jacfwd", "jvp", "forward_ad", "make_dual", "hessian", "forward-mode")


def preload(source: str) -> None:
    for name in modules_for(source):
        try:
            importlib.import_module(name)
        except Exception:
            pass  # not a module (e.g. ``from torch import zeros``) or not installed
    if any(word in source for word in FORWARD_MODE):
        warm_forward_mode()
    if hands_gradients(source):
        try:
            importlib.import_module("torch.fx.experimental.symbolic_shapes")
        except Exception:
            pass


GRADIENT_TAKERS = ("functional", "vjp", "jvp", "hvp", "vhp", "jacobian", "hessian")


def hands_gradients(source: str) -> bool:
    """Whether ``source`` gives autograd an explicit gradient: ``backward`` with an
    argument, ``grad`` with a third argument or ``grad_outputs``, or the helpers of
    ``torch.autograd.functional`` (a name check: a false alarm costs only time)."""
    if any(word in source for word in GRADIENT_TAKERS):
        return True
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        keywords = {k.arg for k in node.keywords}
        if node.func.attr == "backward" and (node.args or "gradient" in keywords):
            return True
        if node.func.attr == "grad" and (len(node.args) >= 3 or "grad_outputs" in keywords):
            return True
    return False


def warm_forward_mode() -> None:
    import torch

    try:
        point = torch.tensor(0.5, dtype=torch.float64)
        torch.func.jacfwd(lambda z: torch.sin(z) * z)(point)
    except Exception:
        pass  # the learner's own call will say what is wrong
