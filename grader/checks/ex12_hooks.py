"""Hidden checks for exercise 12: ``clipped_grad(f, g, x, c)``: dL/dx with the
gradient arriving at y = f(x) clamped elementwise to [-c, c].

Kinds every run covers: in every case the gradient at y has elements above c,
below -c and inside [-c, c] (none within 2% of c, so rounding never decides);
f with a Jacobian that mixes elements (a matrix product, a reduction along a
dim) or changes the shape (larger), and elementwise f; x 0-d, with size-1 dims
and larger; contiguous, transposed, stepped, offset and expanded x; float32
and float64; weights that require grad and plain ones; a call with gradient
recording off. Every case is drawn so that each classic mistake (no clamp, the
clamp applied at x, clamping to [0, c] or from one side only, scaling to norm
c) gives a number clearly different from the answer.
"""

from __future__ import annotations

import re

import torch

from grader.cases import Case
from grader.checks import derivatives, diagnose, expect, show, untouched
from grader.checks.draw import F32, F64, MIN_DIM, Draw, Kind, grad_mode_off
from grader.checks.run import ExerciseRun, weight
from grader.functions import FORMULAS
from grader.layout import CONTIGUOUS, EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.runner.observe import Recorder

PLAN: tuple[Kind, ...] = (  # x with f's output kind
    Kind("matmul", "large", dtype=F32),
    Kind("larger", "0-d", OFFSET, F64),
    Kind("same", "large", TRANSPOSED, F32, weights_grad=True),
    Kind("matmul", "size-1", STEPPED, F64),
    Kind("rowwise", "large", EXPANDED, F64, weights_grad=True),
)
G = ("trig", "quotient", "scaled_tanh", "broadcast")
"""g, elementwise: a gradient at y of both signs, whatever f gives."""
APART = 0.05  # each mistake differs from the answer by at least 5% (relative norm)
MARGIN = 0.02  # no |dL/dy| within 2% of c
TRIES = 2000  # the rarest kind (0-d x) fits about one draw in 25: 2000 tries never run out


def draw_cases(draw: Draw) -> list[Case]:
    cases = [_case(draw, kind) for kind in PLAN]
    return [*cases, grad_mode_off(cases[0])]


def _case(draw: Draw, kind: Kind) -> Case:
    """Values drawn again until the gradient at y has elements on both sides of
    [-c, c] and inside it, and every mistake stands apart from the answer."""
    for _ in range(TRIES):
        case = _candidate(draw, kind)
        if case is not None and _stands_apart(case):
            return case
    raise RuntimeError("exercise 12: no case found where every mistake stands apart")


def _candidate(draw: Draw, kind: Kind) -> Case | None:
    shape = draw.shape(kind.shape, min_dim=MIN_DIM.get(kind.output, 0), layout=kind.layout)
    x, laid = draw.laid_out(shape, kind.dtype, kind.layout)
    f_name = draw.function(kind, shape)
    tensors = {"x": x, **draw.weights(f_name, "f", x)}
    y = Case(tensors, {"f": f_name}).fn("f")(x)
    g_name = draw.choice(G)
    tensors.update(draw.weights(g_name, "g", y))
    weights = [k for k in tensors if k != "x"]
    meta = {
        "f": f_name,
        "g": g_name,
        "requires_grad": weights if kind.weights_grad else [],
        "grad_mode": kind.grad_mode,
        "layout": {"x": laid} if laid != CONTIGUOUS else {},
    }
    case = Case(tensors, meta)
    c = _threshold(draw, at_y(_cpu64(case)))  # the same c whatever the grading device
    if c is None:
        return None
    case.meta["c"] = c
    return case


def _threshold(draw: Draw, gy: torch.Tensor) -> float | None:
    """A c with an element of ``gy`` above c, one below -c and one inside [-c, c],
    and no |element| within MARGIN of c; None if there is none."""
    flat = gy.detach().double().reshape(-1).cpu()
    hi = min(float(flat.max()), float(-flat.min()))  # c must stay below both sides
    mags = sorted(float(m) for m in flat.abs())
    gaps = []
    for a, b in zip(mags, mags[1:], strict=False):
        lo_c, hi_c = a / (1 - MARGIN), min(b, hi) / (1 + MARGIN)
        if lo_c < hi_c:
            gaps.append((lo_c, hi_c))
    if not gaps:
        return None
    lo_c, hi_c = draw.choice(gaps)
    return lo_c + (hi_c - lo_c) * draw.integer(1, 99) / 100


def _cpu64(case: Case) -> Case:
    return Case({k: t.to("cpu", torch.float64) for k, t in case.tensors.items()}, dict(case.meta))


def _stands_apart(case: Case) -> bool:
    c64 = _cpu64(case)
    want = expected(c64)
    scale = float(want.norm())
    if scale < 1e-2:
        return False
    return all(float((p - want).norm()) > APART * scale for _key, p in _predictions(c64))


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    f, g = rec.watch(case.fn("f")), rec.watch(case.fn("g"))
    rec.value("out", rec.call(fn, f, g, x, float(case.meta["c"])))
    untouched.record(rec, "x", x)


def at_y(case: Case) -> torch.Tensor:
    """dL/dy, the gradient arriving at y before any clamp."""
    y = case.fn("f")(case.tensors["x"]).detach().requires_grad_(True)
    (gy,) = torch.autograd.grad(case.fn("g")(y).sum(), y)
    return gy


def through_f(case: Case, gy: torch.Tensor) -> torch.Tensor:
    """The gradient ``gy`` at y carried back through f to x."""
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    return derivatives.vjp(case.fn("f")(x), x, gy)


def expected(case: Case) -> torch.Tensor:
    c = float(case.meta["c"])
    return through_f(case, at_y(case).clamp(-c, c))


def _predictions(case: Case) -> list[diagnose.Prediction]:
    c = float(case.meta["c"])
    gy = at_y(case)
    plain = through_f(case, gy)
    return [
        ("diag.not_clamped", plain),
        ("diag.clamped_at_x", plain.clamp(-c, c)),
        ("diag.clamped_nonneg", through_f(case, gy.clamp(0.0, c))),
        ("diag.clamped_one_side", through_f(case, gy.clamp(max=c))),
        ("diag.clamped_one_side", through_f(case, gy.clamp(min=-c))),
        ("diag.clip_norm", through_f(case, gy * min(1.0, c / float(gy.norm())))),
    ]


def where(case: Case) -> str:
    x = case.tensors["x"]
    f = FORMULAS.get(case.meta["f"], case.meta["f"])
    g = re.sub(r"\bx\b", "y", FORMULAS.get(case.meta["g"], case.meta["g"]))
    return (
        f"y = f(x) = {f}; L = g(y).sum(), g(y) = {g}; c = {case.meta['c']:g}; "
        f"x: shape {show.shape(x.shape)}, {show.dtype(x.dtype)}"
    )


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        expect.values(
            expect.returned(obs, "out", "dL/dx"),
            expected(case),
            where=where(case),
            dtype=x.dtype,
            predictions=lambda case=case: _predictions(case),
        )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="dL/dx", device=case.device)
    expect.device_agnostic(run, ["out"], "dL/dx")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.detached(obs.facts["out"], what="dL/dx")
        untouched.kept(case, obs, "x")
    expect.grad_mode_kept(run)
