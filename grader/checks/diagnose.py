"""Name the likely mistake behind a wrong value, only when the numbers support it.

``explain`` first tries the mistakes a check predicts for its concept (each a
tensor the mistaken code would have returned), then patterns any gradient can
show: all zeros, a flipped sign, an integer multiple, a 1/n or n factor.
"""

from __future__ import annotations

import torch
from torch import Tensor

from grader.messages import Feedback, message

Prediction = tuple[str, Tensor]  # (message key, what that mistake returns)


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing results computed in ``dtype``.

    float64's is tight enough that a result computed in float32 precision and
    cast back fails it: float32 rounding leaves relative errors of about 1e-8 to
    1e-7 on every element, while correct float64 styles (backward, autograd.grad,
    torch.func, other summation orders) differ from the reference by about 1e-16
    to 1e-14 (measured over the reference solutions and the mutation suite's
    correct styles; hvp, with the most steps, is the largest).
    """
    return (1e-10, 1e-12) if dtype == torch.float64 else (1e-4, 1e-5)


def close(a: Tensor, b: Tensor, dtype: torch.dtype, loose: float = 1.0) -> bool:
    if a.shape != b.shape:
        return False
    rtol, atol = tolerance(dtype)
    a64 = a.detach().to("cpu", torch.float64)
    b64 = b.detach().to("cpu", torch.float64)
    return bool(torch.allclose(a64, b64, rtol=rtol * loose, atol=atol * loose, equal_nan=False))


def in_float32(got: Tensor, expected: Tensor, dtype: torch.dtype) -> bool:
    """Whether a float64 result that is not right is right at float32's precision
    (and not all zeros where the answer is small but not zero)."""
    if dtype != torch.float64 or got.shape != expected.shape:
        return False
    if close(got, expected, dtype) or not close(got, expected, torch.float32):
        return False
    return not ((got == 0).all() and not (expected == 0).all())


def ratio(got: Tensor, expected: Tensor) -> float | None:
    """The constant k with got == k * expected, if there is one."""
    g = got.detach().to("cpu", torch.float64).reshape(-1)
    e = expected.detach().to("cpu", torch.float64).reshape(-1)
    if g.shape != e.shape or not torch.isfinite(g).all():
        return None
    scale = e.abs().max()
    if scale == 0:
        return None
    mask = e.abs() > 1e-3 * scale
    r = g[mask] / e[mask]
    k = float(r.mean())
    if not torch.allclose(r, torch.full_like(r, k), rtol=1e-3, atol=1e-6):
        return None
    if not torch.allclose(g[~mask], k * e[~mask], rtol=1e-3, atol=1e-6 * float(scale)):
        return None
    return k


def explain(
    got: Tensor,
    expected: Tensor,
    dtype: torch.dtype,
    *,
    numel: int = 1,
    predictions: list[Prediction] = (),  # type: ignore[assignment]
    gradient: bool = True,
) -> list[Feedback]:
    """Zero or one diagnosis for a wrong value.

    A prediction is claimed only when the value matches it and the prediction
    itself differs from the expected value; a pattern only when every element
    shows it. ``gradient=False`` keeps to the patterns any value can show.
    A float64 result that is right within float32's tolerance only was computed
    in float32 precision: that is one more story (``diag.float32_precision``).
    """
    matched = {
        key
        for key, predicted in predictions
        if close(got, predicted, dtype, loose=10) and not close(predicted, expected, dtype)
    }
    if in_float32(got, expected, dtype):
        matched.add("diag.float32_precision")
    if len(matched) == 1:  # several different stories fit: the evidence names none
        return [message(matched.pop())]
    if matched:
        return []
    g = got.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if g.shape != e.shape:
        return []
    if not torch.isfinite(g).all():
        return [message("diag.not_finite")]
    if not gradient:
        k = ratio(g, e)
        return [message("diag.sign")] if k is not None and abs(k + 1) < 1e-3 else []
    if (g == 0).all() and not (e == 0).all():
        return [message("diag.zeros")]
    k = ratio(g, e)
    if k is None:
        return []
    if abs(k + 1) < 1e-3:
        return [message("diag.sign")]
    nearest = round(k)
    if 2 <= nearest <= 64 and abs(k - nearest) < 1e-3 * nearest:
        return [message("diag.scaled_int", k=nearest)]
    if numel > 1 and abs(k * numel - 1) < 1e-3:
        return [message("diag.mean_instead_of_sum", n=numel)]
    if numel > 1 and abs(k / numel - 1) < 1e-3:
        return [message("diag.sum_instead_of_mean", n=numel)]
    if -64 <= nearest <= -2 and abs(k - nearest) < 1e-3 * abs(nearest):
        return [message("diag.scaled_negative", k=nearest)]
    return []


ListPrediction = tuple[str, list[Tensor]]  # (message key, the list that mistake returns)


def list_story(
    got: list[Tensor], expected: list[Tensor], dtype: torch.dtype, mistakes: list[ListPrediction]
) -> ListPrediction | None:
    """The one mistake whose whole list matches what came back, if exactly one does
    (a single entry can fit several stories; the whole list rarely does)."""

    def fits(values: list[Tensor], want: list[Tensor], loose: float) -> bool:
        return all(
            v.numel() == w.numel() and close(v.reshape(w.shape), w, dtype, loose)
            for v, w in zip(values, want, strict=True)
        )

    matches = [
        (key, pred)
        for key, pred in mistakes
        if fits(got, pred, 10.0) and not fits(pred, expected, 1.0)
    ]
    return matches[0] if len({key for key, _ in matches}) == 1 else None
