"""Hidden inputs, drawn from a seeded generator: the same seed gives the same inputs
on every machine; without a seed each run draws a fresh, secret one.

**Kinds are fixed, values are random.** A solution can be right on one kind of
input and wrong on another (an output shaped like x or not, a strided x, a stale
``.grad``...). If randomness decided whether a kind shows up, the same mistake
would pass on some seeds and fail on others. So each exercise lists its cases as
a fixed plan of ``Kind`` rows, one per case, that together cover every kind along
every dimension that matters to it; the seed only picks the values inside a kind:
which function of that output kind, which shape of that size kind, the numbers,
the weights. Every run therefore tests every kind, and a submission gets the same
verdict on every seed.

The dimensions (each exercise's plan says which apply to it):

- ``output``: f(x) shaped like x (``same``), reduced to 0-d (``scalar``), reduced
  along one dim (``rowwise``), broadcast to a larger shape (``larger``), or with
  its last dim changed by a matrix product (``matmul``);
- ``shape``: 0-d, with size-1 dims, or larger;
- ``layout``: contiguous, transposed, stepped (a strided slice), offset into a
  larger buffer, or expanded (a 0-stride dim) (``grader.layout``);
- ``dtype``: float32 and float64, in every run;
- ``weights_grad``: f closes over weights that require grad, or over plain ones;
- ``stale``: x holds a ``.grad`` from earlier work, or none;
- ``grad_mode``: called with gradient recording on, or off (``grad_mode_off``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import Tensor

from grader import layout as layouts
from grader.cases import Case

T = TypeVar("T")

F32, F64 = torch.float32, torch.float64

SHAPES: dict[str, tuple[tuple[int, ...], ...]] = {
    "0-d": ((),),
    "size-1": ((1,), (1, 1), (3, 1), (1, 4), (2, 1, 3), (1, 3, 2)),
    "large": ((4,), (6,), (2, 3), (3, 4), (5, 2), (2, 3, 2), (3, 2, 4)),
}

UNARY = ("seed_poly", "cubic", "trig", "exp_log", "quotient", "scaled_tanh")
"""Elementwise functions: the output has the input's shape (0-d included)."""

WITH_WEIGHTS = ("cubic", "trig", "exp_log", "quotient", "scaled_tanh", "broadcast")
"""Functions of x's shape that close over weights."""

OUTPUTS: dict[str, tuple[str, ...]] = {
    "same": (*UNARY, "broadcast"),
    "scalar": ("norm", "mean_square"),
    "rowwise": ("rowwise",),
    "larger": ("outer",),
    "matmul": ("matmul",),
}
"""Functions by the shape of their output against x's shape."""

MIN_DIM = {"rowwise": 2, "matmul": 1}
"""Output kinds that need x to have dims (rowwise keeps at least one dim)."""


@dataclass(frozen=True)
class Kind:
    """One case's kind along each dimension; the seed fills in the values."""

    output: str = "same"
    shape: str = "large"
    layout: str = layouts.CONTIGUOUS
    dtype: torch.dtype = F32
    weights_grad: bool = False
    stale: bool = False
    grad_mode: bool = True
    fn: str | None = None  # this very function instead of one of the output kind


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

    def shape(self, kind: str, *, min_dim: int = 0, layout: str = "contiguous") -> tuple[int, ...]:
        """A shape of size kind ``kind`` (``0-d``, ``size-1``, ``large``) that has at
        least ``min_dim`` dims and can take ``layout``."""
        fits = [s for s in SHAPES[kind] if len(s) >= min_dim and _takes(s, layout)]
        if not fits:
            raise ValueError(f"no {kind} shape with {min_dim}+ dims takes layout {layout}")
        return self.choice(fits)

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

    def laid_out(
        self, shape: Sequence[int], dtype: torch.dtype, layout: str, lo: float = -2.0
    ) -> tuple[Tensor, str]:
        """Values for an input of ``shape`` that will be laid out as ``layout``, and the
        layout as the case records it (``expanded:D`` names the 0-stride dim D, and the
        values repeat along D)."""
        if layout != layouts.EXPANDED:
            return self.uniform(shape, dtype, lo, -lo), layout
        dim = self.choice([i for i, n in enumerate(shape) if n > 1])
        row = list(shape)
        row[dim] = 1
        values = self.uniform(row, dtype, lo, -lo).expand(tuple(shape)).contiguous()
        return values, f"{layouts.EXPANDED}:{dim}"

    def function(self, kind: Kind, shape: Sequence[int]) -> str:
        """A function of output kind ``kind.output`` for an input of ``shape`` (one
        that closes over weights when ``kind.weights_grad`` asks for them)."""
        if kind.fn:
            return kind.fn
        names = OUTPUTS[kind.output]
        if kind.output == "same" and kind.weights_grad:
            names = WITH_WEIGHTS
        if kind.output == "same" and not kind.weights_grad:
            names = tuple(n for n in names if n != "seed_poly")  # the seed has its own row
        return self.choice(names)

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
        elif fn in ("quotient", "mean_square", "norm", "rowwise"):
            w = {"a": self.signed(scalar, d)}
        elif fn == "scaled_tanh":
            w = {"s": self.signed(shape, d)}
        elif fn == "broadcast":
            w = {"v": self.signed((last,) if shape else scalar, d)}
        elif fn == "outer":
            w = {"v": self.signed((self.integer(2, 3),), d)}
        elif fn == "matmul":
            # k != x's last dim, so the product changes the shape; small enough that
            # tanh(x @ m) stays out of saturation
            k = self.choice([n for n in (1, 2, 3, 4) if n != last])
            w = {"m": self.signed((last, k), d, 0.1, 0.35)}
        elif fn == "three_way":
            w = {"k": self.signed(scalar, d)}
        return {f"{key}.{name}": t for name, t in w.items()}

    def single_input(self, kind: Kind, *, key: str = "f") -> Case:
        """A case with one input ``x`` of ``kind``, a function of ``kind``'s output
        kind under ``key``, and, as ``kind`` says, weights that require grad and a
        stale ``x.grad``. ``meta["requires_grad"]`` lists only the weights: an
        exercise whose x requires grad adds it."""
        min_dim = MIN_DIM.get(kind.output, 0)
        shape = self.shape(kind.shape, min_dim=min_dim, layout=kind.layout)
        x, laid = self.laid_out(shape, kind.dtype, kind.layout)
        name = self.function(kind, shape)
        weights = self.weights(name, key, x)
        tensors = {"x": x, **weights}
        if kind.stale:
            tensors["x.grad"] = self.uniform(shape, kind.dtype, -1.0, 1.0)
        meta: dict[str, Any] = {
            key: name,
            "requires_grad": list(weights) if kind.weights_grad else [],
            "grad_mode": kind.grad_mode,
        }
        if laid != layouts.CONTIGUOUS:
            meta["layout"] = {"x": laid}
        return Case(tensors, meta)


def _takes(shape: Sequence[int], layout: str) -> bool:
    if layout == layouts.TRANSPOSED:
        return layouts.can_transpose(shape)
    if layout in (layouts.STEPPED, layouts.EXPANDED):
        return layouts.can_step(shape)
    return True


def grad_mode_off(case: Case) -> Case:
    """A copy of ``case`` called with gradient recording switched off.

    For exercises whose contract does not say the function must work under
    ``torch.no_grad()``, such a case only checks that the function leaves the grad
    mode as it found it (``grad_mode_only``); if the call raises, which a correct
    ``f(x).backward()`` does there, the case is not counted.
    """
    return Case(dict(case.tensors), {**case.meta, "grad_mode": False, "grad_mode_only": True})
