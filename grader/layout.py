"""How a hidden input is laid out in memory.

Tensors cross the sandbox as contiguous values; a case's ``meta["layout"]`` names
the layout each input must have when the learner's function receives it, and
``arrange`` rebuilds it on the learner's side. The values never change, only
where they sit: a copy where an alias is asked, ``.view`` on a strided tensor, or
code that assumes offset 0 shows up only on such inputs.

- ``contiguous``: a fresh tensor of its own.
- ``transposed``: the last two dims swapped in memory (needs two dims of size > 1).
- ``stepped``: every other element of a buffer twice as long along one dim.
- ``offset``: a contiguous view that starts partway into a larger buffer.
- ``expanded:D``: dim D has stride 0 (one row repeated); the values must already
  be constant along D.

Unused memory in a buffer holds NaN, so code that reads outside the view shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

CONTIGUOUS = "contiguous"
TRANSPOSED = "transposed"
STEPPED = "stepped"
OFFSET = "offset"
EXPANDED = "expanded"
OFFSET_BY = 5  # elements before the view starts


def arrange(t: Tensor, layout: str) -> Tensor:
    """A leaf with ``t``'s values laid out as ``layout`` (on ``t``'s device)."""
    t = t.detach()
    if layout == TRANSPOSED and can_transpose(t.shape):
        view = t.transpose(-1, -2).contiguous().transpose(-1, -2)
    elif layout == STEPPED and can_step(t.shape):
        dim = stepped_dim(t.shape)
        base_shape = list(t.shape)
        base_shape[dim] *= 2
        base = torch.full(base_shape, float("nan"), dtype=t.dtype, device=t.device)
        index = [slice(None)] * t.dim()
        index[dim] = slice(None, None, 2)
        base[tuple(index)] = t
        view = base[tuple(index)]
    elif layout == OFFSET:
        base = torch.full((t.numel() + OFFSET_BY,), float("nan"), dtype=t.dtype, device=t.device)
        base[OFFSET_BY:] = t.reshape(-1)
        view = base[OFFSET_BY:].view(t.shape)
    elif layout.startswith(EXPANDED + ":"):
        dim = int(layout.split(":", 1)[1])
        view = t.narrow(dim, 0, 1).clone().expand(t.shape)
    else:
        return t.clone()
    return view.detach()  # a leaf of its own that keeps the view's strides and offset


def can_transpose(shape: Sequence[int]) -> bool:
    return len(shape) >= 2 and shape[-1] > 1 and shape[-2] > 1


def can_step(shape: Sequence[int]) -> bool:
    return any(n > 1 for n in shape)


def stepped_dim(shape: Sequence[int]) -> int:
    """The last dim of size > 1: stepping along it makes the tensor non-contiguous."""
    return max(i for i, n in enumerate(shape) if n > 1)


def describe(t: Tensor) -> str:
    """The layout a tensor actually has (for tests and feedback)."""
    if any(s == 0 and n > 1 for s, n in zip(t.stride(), t.shape, strict=True)):
        return EXPANDED
    if not t.is_contiguous():
        return TRANSPOSED if t.dim() >= 2 and t.stride(-2) < t.stride(-1) else STEPPED
    if t.storage_offset() > 0:
        return OFFSET
    return CONTIGUOUS
