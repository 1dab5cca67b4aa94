"""How tensors and cases are written in feedback: short and readable."""

from __future__ import annotations

import torch
from torch import Tensor

from grader.cases import Case
from grader.functions import FORMULAS, INPUT_NAMES

MAX_SHOWN = 6
DIGITS = 4  # significant digits shown, unless more are needed to tell values apart


def number(v: float, digits: int = DIGITS) -> str:
    return f"{v:.{digits}g}"


def tensor(t: Tensor, digits: int = DIGITS) -> str:
    """``1.25`` for 0-d, ``[1.25, -0.5]`` when small, else shape and first values."""
    t = t.detach().to("cpu", torch.float64)
    flat = t.reshape(-1).tolist()
    if t.dim() == 0:
        return number(flat[0], digits)
    shown = ", ".join(number(v, digits) for v in flat[:MAX_SHOWN])
    if t.numel() <= MAX_SHOWN and t.dim() == 1:
        return f"[{shown}]"
    more = ", …" if t.numel() > MAX_SHOWN else ""
    return f"shape {shape(t.shape)}: [{shown}{more}]"


def apart(expected: Tensor, got: Tensor) -> tuple[str, str]:
    """``expected`` and ``got`` as ``tensor`` writes them, with as many significant
    digits as it takes (4 to 17) for the two to read differently, so a gap that
    only precision explains (0.2672 against 0.2672) shows: 0.26720001 against
    0.26720002."""
    for digits in range(DIGITS, 18):
        shown = tensor(expected, digits), tensor(got, digits)
        if shown[0] != shown[1]:
            return shown
    return shown


def shape(s: torch.Size | tuple[int, ...] | list[int]) -> str:
    return "(" + ", ".join(str(n) for n in s) + ("," if len(s) == 1 else "") + ")"


def dtype(d: torch.dtype | str) -> str:
    return str(d).removeprefix("torch.")


def case(c: Case, key: str = "f", inputs: tuple[str, ...] = ("x",)) -> str:
    """``f = x**2 + 2*x + 7; x: shape (2, 3), float64``; with several inputs, each
    under the name the formula gives it: ``...; a: shape (2, 3), b: shape (3,), float32``."""
    name = str(c.meta.get(key, ""))
    tensors = [c.tensors[i] for i in inputs]
    labels = INPUT_NAMES.get(name, inputs) if len(inputs) > 1 else inputs
    if len(labels) != len(tensors):
        labels = inputs
    return _described(name, tensors, labels)


def function(name: str, first: Tensor, inputs: tuple[str, ...] = ("x",)) -> str:
    """``f = <formula>; x: shape (2, 3), float64`` (no formula when there is no f)."""
    return _described(name, [first], inputs)


def input_name(name: str, i: int) -> str:
    """What the formula of function ``name`` calls its input ``i`` (``input 2`` if nothing)."""
    names = INPUT_NAMES.get(name, ())
    return names[i] if i < len(names) else f"input {i + 1}"


def _described(name: str, tensors: list[Tensor], labels: tuple[str, ...]) -> str:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) == 1:
        described = f"{', '.join(labels)}: shape {shape(tensors[0].shape)}"
    else:
        described = ", ".join(
            f"{lb}: shape {shape(t.shape)}" for lb, t in zip(labels, tensors, strict=True)
        )
    described += f", {dtype(tensors[0].dtype)}"
    if not name:
        return described
    return f"f = {FORMULAS.get(name, name)}; {described}"
