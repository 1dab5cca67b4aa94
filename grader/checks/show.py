"""How tensors and cases are written in feedback: short and readable."""

from __future__ import annotations

import torch
from torch import Tensor

from grader.cases import Case
from grader.functions import FORMULAS

MAX_SHOWN = 6


def number(v: float) -> str:
    return f"{v:.4g}"


def tensor(t: Tensor) -> str:
    """``1.25`` for 0-d, ``[1.25, -0.5]`` when small, else shape and first values."""
    t = t.detach().to("cpu", torch.float64)
    flat = t.reshape(-1).tolist()
    if t.dim() == 0:
        return number(flat[0])
    shown = ", ".join(number(v) for v in flat[:MAX_SHOWN])
    if t.numel() <= MAX_SHOWN and t.dim() == 1:
        return f"[{shown}]"
    more = ", …" if t.numel() > MAX_SHOWN else ""
    return f"shape {shape(t.shape)}: [{shown}{more}]"


def shape(s: torch.Size | tuple[int, ...] | list[int]) -> str:
    return "(" + ", ".join(str(n) for n in s) + ("," if len(s) == 1 else "") + ")"


def dtype(d: torch.dtype | str) -> str:
    return str(d).removeprefix("torch.")


def case(c: Case, key: str = "f", inputs: tuple[str, ...] = ("x",)) -> str:
    """``f = x**2 + 2*x + 7; x: shape (2, 3), float64``."""
    return function(str(c.meta.get(key, "")), c.tensors[inputs[0]], inputs)


def function(name: str, first: Tensor, inputs: tuple[str, ...] = ("x",)) -> str:
    """``f = <formula>; x: shape (2, 3), float64`` (no formula when there is no f)."""
    described = f"{', '.join(inputs)}: shape {shape(first.shape)}, {dtype(first.dtype)}"
    if not name:
        return described
    return f"f = {FORMULAS.get(name, name)}; {described}"
