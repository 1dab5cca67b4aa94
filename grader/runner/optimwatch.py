"""See ``torch.optim`` used, whatever path the learner's code takes to it.

Exercise 7 asks for the update written by hand. Reading the source for
``torch.optim`` misses ``importlib.import_module("torch." + "op" + "tim")``, so
the worker watches behaviour instead: before the learner's file is loaded, every
function and method defined in ``torch.optim`` and its submodules (the optimizer
classes, ``torch.optim._functional``, the ``sgd``/``adam``... kernels) is
replaced, in every module that holds it, by a wrapper that reports its name the
first time it runs. The report leaves the worker at once as a frame of its own
(``worker.Frames.event``), so nothing the learner does later can take it back.

A learner who goes out of their way (copying torch's SGD source into their file,
or digging the original function out of a wrapper's closure) is not seen: that
is writing the update by hand with extra steps, and the values must still be
right. README, SECURITY.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types
from collections.abc import Callable
from typing import Any

import torch.optim

_FunctionType = types.FunctionType
PACKAGE = "torch.optim"


Target = tuple[Any, str, str, types.FunctionType]  # holder, attribute, how it is held, function


def targets() -> list[Target]:
    """Every function and method of torch.optim and where each is held, after
    importing every submodule (so none is imported unwatched later). Done once, in
    the zygote; ``install`` then only swaps in wrappers."""
    for info in pkgutil.walk_packages(torch.optim.__path__, PACKAGE + "."):
        try:
            importlib.import_module(info.name)
        except Exception:
            continue
    found: list[Target] = []
    classes: set[int] = set()
    for module_name, module in list(sys.modules.items()):
        if not _ours(module_name) or not isinstance(module, types.ModuleType):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, _FunctionType) and _ours(getattr(value, "__module__", "")):
                found.append((module, attr, "module", value))
            elif isinstance(value, type) and _ours(getattr(value, "__module__", "")):
                if id(value) not in classes:
                    classes.add(id(value))
                    found += _methods(value)
    return found


def _methods(cls: type) -> list[Target]:
    found: list[Target] = []
    for attr, value in list(vars(cls).items()):
        if attr.startswith("__") and attr != "__init__":
            continue
        if isinstance(value, _FunctionType):
            found.append((cls, attr, "method", value))
        elif isinstance(value, (staticmethod, classmethod)):
            if isinstance(value.__func__, _FunctionType):
                found.append((cls, attr, type(value).__name__, value.__func__))
    return found


def install(report: Callable[[str], None], where: list[Target]) -> set[str]:
    """Wrap every function in ``where``: ``report(name)`` is called the first time
    each one runs. Returns the names reported so far: clearing it makes the next
    use of each report again (the worker does, before each learner file)."""
    seen: set[str] = set()
    wrapped: dict[types.FunctionType, Any] = {}  # by the function itself: id() is audited

    def wrap(fn: types.FunctionType) -> Any:
        if fn in wrapped:
            return wrapped[fn]
        name = f"{fn.__module__}.{fn.__qualname__}"

        def watched(*args: Any, **kwargs: Any) -> Any:
            if name not in seen:
                seen.add(name)
                report(name)
            return fn(*args, **kwargs)

        watched.__name__ = fn.__name__
        watched.__qualname__ = fn.__qualname__
        watched.__doc__ = fn.__doc__
        watched.__module__ = fn.__module__
        wrapped[fn] = watched
        return watched

    for holder, attr, held, fn in where:
        if held == "module":
            setattr(holder, attr, wrap(fn))
        elif held == "method":
            type.__setattr__(holder, attr, wrap(fn))
        else:
            descriptor = staticmethod if held == "staticmethod" else classmethod
            type.__setattr__(holder, attr, descriptor(wrap(fn)))
    return seen


def _ours(module_name: str) -> bool:
    return module_name == PACKAGE or module_name.startswith(PACKAGE + ".")
