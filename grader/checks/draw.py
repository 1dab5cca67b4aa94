"""Hidden inputs, drawn from a seeded generator: the same seed gives the same inputs
on every machine; without a seed each run draws a fresh, secret one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch
from torch import Tensor

T = TypeVar("T")

DTYPES = (torch.float32, torch.float64)
SHAPES: tuple[tuple[int, ...], ...] = (
    (),
    (1,),
    (4,),
    (2, 3),
    (3, 1),
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
        return self.choice(DTYPES)

    def shape(self, min_dim: int = 0, max_dim: int = 3) -> tuple[int, ...]:
        return self.choice([s for s in SHAPES if min_dim <= len(s) <= max_dim])

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
        elif fn in ("quotient", "mean_square"):
            w = {"a": self.signed(scalar, d)}
        elif fn == "scaled_tanh":
            w = {"s": self.signed(shape, d)}
        elif fn == "broadcast":
            w = {"v": self.signed((last,) if shape else scalar, d)}
        elif fn == "matmul":
            w = {"m": self.signed((last, self.integer(1, 3)), d, 0.2, 0.8)}
        elif fn == "three_way":
            w = {"k": self.signed(scalar, d)}
        return {f"{key}.{name}": t for name, t in w.items()}


UNARY = ("seed_poly", "cubic", "trig", "exp_log", "quotient", "scaled_tanh")
"""Elementwise functions: the output has the input's shape (0-d included)."""

ANY_SHAPE = (*UNARY, "mean_square", "broadcast")
"""Functions for inputs of any shape; ``matmul`` needs at least one dimension."""


def unary_for(shape: Sequence[int]) -> tuple[str, ...]:
    return (*ANY_SHAPE, "matmul") if len(shape) >= 1 else ANY_SHAPE
