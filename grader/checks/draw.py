"""Hidden inputs, drawn from a seeded generator: the same seed gives the same inputs
on every machine; without a seed each run draws a fresh, secret one.

Every exercise's checks build their cases from this module, so the space that
hidden inputs come from is set here: shapes from 0-d to 3-d (size-1 dimensions
included), both float dtypes (each exercise's first two draws cover both, so every
run tests float32 and float64), functions from ``grader.functions`` with weights
that keep them away from saturation, and a copy of one case called with gradient
recording switched off (``grad_mode_off``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch
from torch import Tensor

from grader.cases import Case

T = TypeVar("T")

DTYPES = (torch.float32, torch.float64)
SHAPES: tuple[tuple[int, ...], ...] = (
    (),
    (1,),
    (4,),
    (2, 3),
    (3, 1),
    (1, 1),
    (1, 5),
    (2, 1, 3),
    (2, 3, 2),
)


class Draw:
    """Random choices for one exercise: tensors are made on the CPU, then moved."""

    def __init__(self, seed: int, salt: int, device: str) -> None:
        mixed = (seed * 1_000_003 + salt * 7919) % (2**63 - 1)
        self.gen = torch.Generator().manual_seed(mixed)
        self.device = device
        self._dtypes = self.shuffled(DTYPES)  # the first draws cover every dtype

    def integer(self, lo: int, hi: int) -> int:
        """A whole number in [lo, hi]."""
        return int(torch.randint(lo, hi + 1, (), generator=self.gen))

    def coin(self, p: float = 0.5) -> bool:
        return bool(torch.rand((), generator=self.gen) < p)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def shuffled(self, options: Sequence[T]) -> list[T]:
        order = torch.randperm(len(options), generator=self.gen).tolist()
        return [options[i] for i in order]

    def dtype(self) -> torch.dtype:
        """float32 or float64; the first calls give each dtype once, in random order."""
        if self._dtypes:
            return self._dtypes.pop()
        return self.choice(DTYPES)

    def shape(self, min_dim: int = 0, max_dim: int = 3, min_numel: int = 1) -> tuple[int, ...]:
        return self.choice(
            [s for s in SHAPES if min_dim <= len(s) <= max_dim and _numel(s) >= min_numel]
        )

    def uniform(
        self, shape: Sequence[int], dtype: torch.dtype, lo: float = -2.0, hi: float = 2.0
    ) -> Tensor:
        t = torch.rand(tuple(shape), generator=self.gen, dtype=torch.float64)
        return (lo + (hi - lo) * t).to(dtype).to(self.device)

    def signed(
        self, shape: Sequence[int], dtype: torch.dtype, lo: float = 0.3, hi: float = 1.5
    ) -> Tensor:
        """Values with lo <= |v| <= hi: never near zero, either sign."""
        mag = self.uniform(shape, torch.float64, lo, hi)
        sign = torch.where(self.uniform(shape, torch.float64, 0, 1).cpu() < 0.5, -1.0, 1.0)
        return (mag.cpu() * sign).to(dtype).to(self.device)

    def weights(self, fn: str, key: str, x: Tensor) -> dict[str, Tensor]:
        """The weights of function ``fn`` for an input like ``x``, named ``key.<w>``."""
        d, shape = x.dtype, tuple(x.shape)
        last = shape[-1] if shape else 1
        scalar = ()
        w: dict[str, Tensor] = {}
        if fn == "cubic":
            w = {
                "a": self.signed(scalar, d),
                "b": self.signed(scalar, d),
                "c": self.uniform(scalar, d),
            }
        elif fn == "trig":
            w = {"a": self.signed(scalar, d), "b": self.signed(scalar, d)}
        elif fn == "exp_log":
            w = {"a": self.uniform(scalar, d, 0.2, 0.8)}
        elif fn in ("quotient", "mean_square", "norm"):
            w = {"a": self.signed(scalar, d)}
        elif fn == "scaled_tanh":
            w = {"s": self.signed(shape, d)}
        elif fn == "broadcast":
            w = {"v": self.signed((last,) if shape else scalar, d)}
        elif fn == "matmul":
            # small enough that tanh(x @ m) stays out of saturation
            w = {"m": self.signed((last, self.integer(1, 3)), d, 0.1, 0.35)}
        elif fn == "three_way":
            w = {"k": self.signed(scalar, d)}
        return {f"{key}.{name}": t for name, t in w.items()}


def grad_mode_off(case: Case) -> Case:
    """A copy of ``case`` called with gradient recording switched off.

    For exercises whose contract does not say the function must work under
    ``torch.no_grad()``, such a case only checks that the function leaves the grad
    mode as it found it (``grad_mode_only``); if the call raises, which a correct
    ``f(x).backward()`` does there, the case is not counted.
    """
    return Case(dict(case.tensors), {**case.meta, "grad_mode": False, "grad_mode_only": True})


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


UNARY = ("seed_poly", "cubic", "trig", "exp_log", "quotient", "scaled_tanh")
"""Elementwise functions: the output has the input's shape (0-d included)."""

ANY_SHAPE = (*UNARY, "mean_square", "broadcast", "norm")
"""Functions for inputs of any shape; ``matmul`` needs at least one dimension."""


def unary_for(shape: Sequence[int]) -> tuple[str, ...]:
    return (*ANY_SHAPE, "matmul") if len(shape) >= 1 else ANY_SHAPE
