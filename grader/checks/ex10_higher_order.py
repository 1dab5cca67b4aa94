"""Hidden checks for exercise 10: ``hvp(f, x, v)``: the Hessian-vector product H(x)·v.

Kinds every run covers: f's Hessian couples the elements of x (it is not
diagonal, so the diagonal times v is wrong) and changes from point to point (so
H(v)·x is wrong); x 0-d (where H is one number), with size-1 dims and larger;
x contiguous, transposed, stepped and offset, and v in those layouts and
expanded (never an expanded x: torch.func's forward mode, which ``jvp`` of
``grad`` and ``torch.func.hessian`` use, cannot take one); float32 and
float64; weights that require grad and plain ones; a call with gradient
recording off. Every case is drawn so that each classic mistake (the gradient,
the gradient plus H·v, H times ones, the diagonal, H(v)·x) gives a number
clearly different from H·v. Only second-order autograd gets them right: the
hidden functions carry a ripple on their gradients that finite differences of
gradients cannot miss (``grader.functions.guarded``); when a value is wrong,
``grader.checks.second_order`` tells whether a gradient was differentiated again.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import derivatives, diagnose, expect, second_order, show, untouched
from grader.checks.draw import F32, F64, SHAPES, Draw, Kind, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.layout import (
    CONTIGUOUS,
    EXPANDED,
    OFFSET,
    STEPPED,
    TRANSPOSED,
    can_step,
    can_transpose,
)
from grader.messages import Feedback, message
from grader.runner import backprop
from grader.runner.execute import Observation
from grader.runner.observe import Recorder

PLAN = (  # (x's kind, v's layout)
    (Kind(shape="large", dtype=F32), CONTIGUOUS),
    (Kind(shape="size-1", layout=STEPPED, dtype=F64, weights_grad=True), TRANSPOSED),
    (Kind(shape="0-d", layout=OFFSET, dtype=F32, weights_grad=True), CONTIGUOUS),
    (Kind(shape="large", layout=TRANSPOSED, dtype=F64), EXPANDED),
    (Kind(shape="large", layout=OFFSET, dtype=F32, weights_grad=True), STEPPED),
    (Kind(shape="size-1", dtype=F64), OFFSET),
)
FUNCTIONS = ("norm", "coupled_cos", "bump")
"""Scalar functions whose Hessian is neither diagonal nor constant."""
APART = 0.05  # each mistake's number differs from H·v by at least 5% (relative norm)


def draw_cases(draw: Draw) -> list[Case]:
    cases = [_case(draw, kind, v_layout) for kind, v_layout in PLAN]
    return [*cases, grad_mode_off(cases[1])]


def _case(draw: Draw, kind: Kind, v_layout: str) -> Case:
    """x of ``kind``, v of x's shape laid out as ``v_layout``, and one of FUNCTIONS;
    values drawn again until every classic mistake stands apart from H·v."""
    fits = [s for s in SHAPES[kind.shape] if _takes(s, kind.layout) and _takes(s, v_layout)]
    for _ in range(200):
        shape = draw.choice(fits)
        x, x_laid = draw.laid_out(shape, kind.dtype, kind.layout)
        v, v_laid = draw.laid_out(shape, kind.dtype, v_layout)
        name = draw.choice(FUNCTIONS)
        weights = {f"f.{k}": t for k, t in _weights(draw, name, x).items()}
        laid = {k: how for k, how in (("x", x_laid), ("v", v_laid)) if how != CONTIGUOUS}
        meta = {
            "f": name,
            "requires_grad": list(weights) if kind.weights_grad else [],
            "grad_mode": kind.grad_mode,
            "layout": laid,
        }
        case = Case({"x": x, "v": v, **weights}, meta)
        if _stands_apart(case):
            return case
    raise RuntimeError("exercise 10: no case found where every mistake stands apart")


def _takes(shape: tuple[int, ...], layout: str) -> bool:
    if layout == TRANSPOSED:
        return can_transpose(shape)
    return can_step(shape) if layout in (STEPPED, EXPANDED) else True


def _weights(draw: Draw, name: str, x: torch.Tensor) -> dict[str, torch.Tensor]:
    d, shape = x.dtype, tuple(x.shape)
    if name == "coupled_cos":
        return {"u": draw.signed(shape, d, 0.3, 1.0)}
    if name == "bump":  # centred near x, so the bump is neither flat nor tiny there
        return {"a": draw.signed((), d, 1.0, 3.0), "t": x + draw.uniform(shape, d, -0.6, 0.6)}
    return {"a": draw.signed((), d, 1.0, 3.0)}  # norm


def _stands_apart(case: Case) -> bool:
    c64 = _in_float64(case)
    want = reference(c64)
    scale = float(want.norm())
    if scale < 1e-2:
        return False
    return all(float((p - want).norm()) > APART * scale for _key, p in _predictions(c64))


def _in_float64(case: Case) -> Case:
    """On the CPU in float64: the same verdict on the draw whatever the grading device."""
    return Case({k: t.to("cpu", torch.float64) for k, t in case.tensors.items()}, dict(case.meta))


def probe(fn, case: Case, rec: Recorder) -> None:
    x, v = case.tensors["x"], case.tensors["v"]
    first, second = backprop.Passes(), backprop.Passes()
    f = backprop.watch(second_order.watch(case.fn(), second), first)
    try:
        out = rec.call(fn, f, x, v)
    finally:  # recorded when the call raised too: it tells the story of the error
        rec.fact("first_order", untouched.count(first.count))
        rec.fact("second_order", untouched.count(second.count))
    rec.value("out", out)
    untouched.record(rec, "x", x)
    untouched.record(rec, "v", v)


def gradient(case: Case, at: torch.Tensor | None = None) -> torch.Tensor:
    x = (case.tensors["x"] if at is None else at).detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x), x)
    return g


def hessian(case: Case, at: torch.Tensor | None = None) -> torch.Tensor:
    """H at ``at`` (x by default) as an (n, n) matrix."""
    x = (case.tensors["x"] if at is None else at).detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x), x, create_graph=True)
    return derivatives.jacobian(g, x).detach()


def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x), x, create_graph=True)
    return derivatives.vjp(g, x, case.tensors["v"])


def _predictions(case: Case, *, first_only: bool = False) -> list[diagnose.Prediction]:
    """What each classic mistake returns on this case. ``first_only``: the call
    took a gradient and never differentiated it again, so zeros (from
    ``allow_unused``/``materialize_grads``) mean create_graph was left out."""
    x, v = case.tensors["x"], case.tensors["v"]
    h = hessian(case)
    g = gradient(case)
    hv = (h @ v.reshape(-1)).reshape(x.shape)
    found = [
        ("diag.hvp_gradient", g),
        ("diag.hvp_grad_plus", g + hv),
        ("diag.hvp_no_v", h.sum(1).reshape(x.shape)),
        ("diag.hvp_swapped", (hessian(case, at=v) @ x.reshape(-1)).reshape(x.shape)),
    ]
    if x.numel() > 1:
        found.append(("diag.hvp_diagonal", (h.diagonal() * v.reshape(-1)).reshape(x.shape)))
    if first_only:
        found.append(("diag.create_graph", torch.zeros_like(hv)))
    return found


@weight(6)
@expect.source_first(lambda run: _second_order(run))
def test_values(run: ExerciseRun) -> None:
    try:
        _values(run)
    except CheckFailed as failed:
        extra = _raised_story(run) if failed.feedback.key == "raised.exception" else None
        if extra is None:
            raise
        raise CheckFailed(failed.feedback.plus(extra)) from None


def _values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        got = expect.returned(obs, "out", "H·v")
        where = show.case(case, inputs=("x", "v"))
        if got.numel() == 1 and x.numel() > 1:
            directional = (gradient(case) * case.tensors["v"]).sum()
            if diagnose.close(got.reshape(()), directional, x.dtype, loose=10):
                raise CheckFailed(
                    message(
                        "values.shape",
                        where=where,
                        expected=show.shape(x.shape),
                        got=show.shape(got.shape),
                    ).plus(message("diag.hvp_directional"))
                )
        expect.values(
            got,
            reference(case),
            where=where,
            dtype=x.dtype,
            predictions=lambda case=case, obs=obs: _predictions(case, first_only=_first_only(obs)),
        )
    # Right values are second-order autograd's: the hidden functions carry a ripple
    # on their gradient that differences of gradients cannot miss
    # (grader.functions.guarded). The count of second-order passes only explains a
    # wrong number (source_first): forward over forward and reverse over forward
    # never pass through the input's second-order marker, and they are right.


def _second_order(run: ExerciseRun) -> None:
    """H·v came from differentiating a gradient again, in every case."""
    for _case, obs in run.each():
        if obs.facts.get("second_order", 0) < 1:
            raise CheckFailed(message("values.not_second_order"))


def _first_only(obs: Observation) -> bool:
    """A gradient went back through f, and none was differentiated again."""
    first, second = obs.facts.get("first_order"), obs.facts.get("second_order")
    return type(first) is int and first >= 1 and second == 0


def _raised_story(run: ExerciseRun) -> Feedback | None:
    """Why the first case that raised did: a gradient taken without
    create_graph=True cannot be differentiated again. (Said only when a first
    backward pass went through f and no second one did.)"""
    for case, obs in zip(run.cases, run.outcome.observations, strict=True):
        if case.meta.get("grad_mode_only") or obs.status == "ok":
            continue
        said = str((obs.error or {}).get("message", ""))
        if "does not require grad" in said and _first_only(obs):
            return message("diag.create_graph")
        return None
    return None


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="H·v", device=case.device)
    expect.device_agnostic(run, ["out"], "H·v")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.detached(obs.facts["out"], what="H·v")
        untouched.kept(case, obs, "x")
        untouched.kept(case, obs, "v")
    expect.grad_mode_kept(run)
