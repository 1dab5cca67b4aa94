"""Hidden checks for exercise 13: ``round_ste(x)``: torch.round with a straight-through
gradient.

Kinds every run covers: x 0-d, with size-1 dims and larger; contiguous,
transposed, stepped, offset and expanded x; float32 and float64; x that requires
grad and x that does not; called with gradient recording on and off (both
checked in full: the contract says what happens under ``no_grad``); x holding a
stale ``.grad`` and none; hidden weights w of x's shape, of one row
(broadcast along the last dim) and 0-d. Every x holds values at the rounding
boundaries, in a fixed set: a tie with an even integer part (0.5 or 2.5: round
half up and half away from zero get it wrong), one with an odd integer part (1.5
or 3.5: half toward zero and half down get it wrong), a negative tie with an odd
integer part (-0.5 or -2.5: half away from zero gets it wrong), 2**20 + 0.25 and
its negative (where a clipped estimator passes no gradient, whatever threshold
below 2**20 it clips at, on one side or both), and values 1/1024 above and below
a tie. Larger x have two dims or more, so six elements at least: all but the last
of these fit in every one.

The straight-through gradient is checked by behaviour, in the worker: the
probe runs ``torch.autograd.grad((round_ste(x) * w).sum(), x)`` through the
learner's result with a hidden w (never ±1, never 0) and sends the gradient
back. A grad_fn cannot be forged into the right number: only a graph whose
backward passes w on unchanged gives w. The learner's backward is learner code,
so it runs through ``Recorder.call`` too (the world is settled after it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show
from grader.checks.draw import F32, F64, Draw
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, grad_of, is_grad_enabled
from grader.runner.worker import describe_exception

_TENSOR = torch.Tensor
STEP = 1.0 / 1024  # near a tie: exact in float32 and float64
FAR = 2.0**20 + 0.25  # far beyond any clipping threshold; exact in float32


@dataclass(frozen=True)
class Row:
    shape: str
    layout: str
    dtype: torch.dtype
    grad: bool  # x requires grad
    w: str = "full"  # the hidden weight: "full" (x's shape), "row" (last dim), "scalar"
    grad_mode: bool = True
    stale: bool = False


PLAN = (
    Row("large", CONTIGUOUS, F32, grad=True, w="full"),
    Row("large", TRANSPOSED, F64, grad=True, w="row", stale=True),
    Row("0-d", OFFSET, F32, grad=True, w="scalar"),
    Row("size-1", STEPPED, F64, grad=True, w="full"),
    Row("large", EXPANDED, F32, grad=True, grad_mode=False),  # no_grad: nothing recorded
    Row("large", OFFSET, F64, grad=False),
    Row("size-1", CONTIGUOUS, F32, grad=False, grad_mode=False, stale=True),
    Row("0-d", CONTIGUOUS, F64, grad=False),
)


def draw_cases(draw: Draw) -> list[Case]:
    return [_case(draw, row) for row in PLAN]


def _case(draw: Draw, row: Row) -> Case:
    shape = draw.shape(row.shape, layout=row.layout, min_dim=2 if row.shape == "large" else 0)
    laid = row.layout
    if row.layout == EXPANDED:
        dim = draw.choice([i for i, n in enumerate(shape) if n > 1])
        short = tuple(1 if i == dim else n for i, n in enumerate(shape))
        x = boundary_values(draw, short, row.dtype).expand(shape).contiguous()
        laid = f"{EXPANDED}:{dim}"
    else:
        x = boundary_values(draw, shape, row.dtype)
    tensors = {"x": x}
    if row.grad and row.grad_mode:
        w_shape = {"full": shape, "row": shape[-1:], "scalar": ()}[row.w]
        tensors["w"] = draw.signed(w_shape, row.dtype, 1.5, 3.0)  # never ±1, never 0
    if row.stale:
        tensors["x.grad"] = draw.uniform(shape, row.dtype, -1.0, 1.0)
    meta: dict = {"requires_grad": ["x"] if row.grad else [], "grad_mode": row.grad_mode}
    if laid != CONTIGUOUS:
        meta["layout"] = {"x": laid}
    return Case(tensors, meta)


def boundary_values(draw: Draw, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Values of ``shape``: first the fixed boundary kinds (as many as fit), then
    random ones, in a random order."""
    k = draw.integer(-3, 2)
    fixed = [
        draw.choice([0.5, 2.5]),  # a tie, even integer part: half up / away say 1 or 3
        draw.choice([1.5, 3.5]),  # a tie, odd integer part: half toward zero / down say 1 or 3
        draw.choice([-0.5, -2.5]),  # a negative tie, odd integer part: away says -1 or -3
        # far out, both signs: a clipped estimator of any threshold below 2**20,
        # one-sided or not, is caught (fixed values, exact in float32: no seed decides)
        FAR,
        -FAR,
        k + 0.5 + STEP,  # just above a tie: rounds up
        draw.integer(-3, 2) + 0.5 - STEP,  # just below a tie: rounds down
    ]
    n = 1
    for size in shape:
        n *= size
    rest = draw.uniform((max(n - len(fixed), 0),), F64, -3.0, 3.0).cpu().tolist()
    values = (fixed + rest)[:n]
    order = draw.shuffled(list(range(n)))
    flat = torch.tensor([values[i] for i in order], dtype=torch.float64)
    return flat.reshape(shape).to(dtype).to(draw.device)


def grad_case(case: Case) -> bool:
    """Whether the case checks the gradient: x requires grad, recording is on."""
    return "w" in case.tensors


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, x)
    rec.value("out", out)
    rec.tensor("x.grad", grad_of(x))
    rec.tensor("x_after", x)
    rec.fact("x_requires_grad", bool(x.requires_grad))
    facts = rec.facts["out"]
    if grad_case(case) and facts.get("kind") == "tensor" and facts.get("requires_grad"):
        _gradient(rec, out, x, case.tensors["w"])


def _gradient(rec: Recorder, out: torch.Tensor, x: torch.Tensor, w: torch.Tensor) -> None:
    """Record d/dx (out * w).sum(), run through the learner's graph (their backward
    is their code: it runs through ``rec.call``, which settles the world after it)."""

    def backward() -> torch.Tensor | None:
        with torch.enable_grad():
            (g,) = torch.autograd.grad((out * w).sum(), x, allow_unused=True)
        return g

    kept = {k: rec.facts.pop(k) for k in ("grad_mode_after", "device_taint") if k in rec.facts}
    mode = bool(is_grad_enabled())
    try:
        g = rec.call(backward)
    except Exception as exc:
        rec.fact("grad", {"kind": "raised", "error": describe_exception(exc, "")})
        return
    finally:
        rec.facts.pop("grad_mode_after", None)
        rec.facts.pop("device_taint", None)
        rec.facts.update(kept)
        torch._C._set_grad_enabled(mode)
    rec.value("grad", g)


# -- what the checks compare with ------------------------------------------------------


@per_case
def rounded(case: Case) -> torch.Tensor:
    return torch.round(case.tensors["x"])


@per_case
def expected_grad(case: Case) -> torch.Tensor:
    x = case.tensors["x"]
    return case.tensors["w"].expand(x.shape).clone()


def _story(run: ExerciseRun) -> str:
    """Whether a result equal to x comes with the gradient of the identity (x returned
    unrounded) or with none (the detach trick written the wrong way round)."""
    for case, obs in zip(run.cases, run.outcome.observations, strict=False):
        if grad_case(case) and obs.status == "ok" and "grad" in obs.tensors:
            if bool((obs.tensors["grad"] == 0).all()):
                return "diag.ste_reversed"
            break
    return "diag.not_rounded"


def _forward_mistakes(x: torch.Tensor, story: str) -> list[diagnose.Prediction]:
    return [
        (story, x),
        ("diag.round_half_up", torch.floor(x + 0.5)),
        ("diag.round_half_away", torch.sign(x) * torch.floor(x.abs() + 0.5)),
        ("diag.floor_not_round", torch.floor(x)),
        ("diag.floor_not_round", torch.trunc(x)),
    ]


def _grad_mistakes(x: torch.Tensor, w: torch.Tensor) -> list[diagnose.Prediction]:
    return [
        ("diag.round_zero_grad", torch.zeros_like(x)),
        ("diag.ste_ones", torch.ones_like(x)),
        ("diag.ste_clipped", w * (x.abs() <= 1).to(x.dtype)),
    ]


@weight(6)
def test_values(run: ExerciseRun) -> None:
    story = _story(run)
    for case, obs in run.each():
        x = case.tensors["x"]
        expect.values(
            expect.returned(obs, "out", "round_ste(x)"),
            rounded(case),
            where=show.case(case),
            dtype=x.dtype,
            predictions=lambda x=x: _forward_mistakes(x, story),
            gradient=False,
        )
        if not grad_case(case):
            continue
        facts = obs.facts["out"]
        if facts.get("kind") == "tensor" and not facts.get("requires_grad"):
            raise CheckFailed(message("diag.ste_no_graph", where=show.case(case)))
        g = obs.facts.get("grad", {})
        if g.get("kind") == "raised":
            err = g.get("error") or {}
            said = f"{err.get('type', 'Exception')}: {err.get('message', '')}"
            raise CheckFailed(message("values.ste_backward_raised", error=said))
        if g.get("kind") == "none":
            raise CheckFailed(message("diag.ste_no_graph", where=show.case(case)))
        w = expected_grad(case)
        expect.values(
            expect.returned(obs, "grad", "gradient"),
            w,
            where=f"d/dx (round_ste(x) * w).sum(); w: shape {show.shape(w.shape)}; "
            + show.case(case),
            dtype=x.dtype,
            predictions=lambda x=x, w=w: _grad_mistakes(x, w),
        )


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(
            obs.facts["out"], case.tensors["x"], what="round_ste(x)", device=case.device
        )
    expect.device_agnostic(run, ["out"], "round_ste(x)")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        after = obs.tensors.get("x_after")
        if after is None or not torch.equal(after, x.cpu()):
            raise CheckFailed(message("side.x_changed", name="x"))
        if obs.facts.get("x_requires_grad") != ("x" in case.meta.get("requires_grad", [])):
            raise CheckFailed(message("side.x_requires_grad_changed"))
        facts = obs.facts["out"]
        records = facts.get("kind") == "tensor" and (
            facts.get("requires_grad") or facts.get("grad_fn")
        )
        if records and not grad_case(case):
            key = (
                "side.ste_records_no_grad"
                if case.meta.get("grad_mode") is False
                else ("side.ste_requires_grad")
            )
            raise CheckFailed(message(key))
        expect.grad_left_alone(case, obs, "x")
    expect.grad_mode_kept(run)
