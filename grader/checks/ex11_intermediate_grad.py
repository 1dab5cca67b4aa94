"""Hidden checks for exercise 11: ``intermediate_grads(f, g, x)``: (dL/dy, dL/dx) for
y = f(x) and L = g(y).sum(), from one backward pass.

Kinds every run covers: f keeps x's shape (where dL/dx returned for dL/dy has
the right shape and only the values tell), and f changes it (0-d, larger,
reduced along a dim, reshaped by a matrix product); g's output of every kind;
x holding a stale ``.grad`` (which must come back exactly as it was) and none;
x 0-d, with size-1 dims and larger; contiguous, transposed, stepped, offset and
expanded x; float32 and float64; weights that require grad and plain ones; a
call with gradient recording off. f and g are called once each, and no part of
the graph is gone through twice.
"""

from __future__ import annotations

import re
from dataclasses import replace

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show, untouched
from grader.checks.draw import F32, F64, MIN_DIM, Draw, Kind, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.functions import FORMULAS
from grader.layout import CONTIGUOUS, EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.execute import Observation
from grader.runner.observe import Recorder

# (x with f's output kind, g's output kind)
PLAN: tuple[tuple[Kind, str], ...] = (
    (Kind("matmul", "large", dtype=F32, stale=True), "scalar"),
    (Kind("same", "size-1", TRANSPOSED, F64, weights_grad=True), "rowwise"),
    (Kind("larger", "0-d", OFFSET, F32, stale=True), "same"),
    (Kind("rowwise", "large", EXPANDED, F64), "matmul"),
    (Kind("scalar", "large", STEPPED, F32, weights_grad=True, stale=True), "larger"),
    (Kind("same", "large", dtype=F64, stale=True), "same"),
)
G_SAME = ("trig", "quotient", "scaled_tanh", "broadcast")
"""g of y's shape: bounded, so g stays tame on the larger values f can give."""
DIMS_ADDED = {"same": 0, "matmul": 0, "larger": 1, "rowwise": -1, "scalar": None}


def draw_cases(draw: Draw) -> list[Case]:
    cases = [_case(draw, kind, g_kind) for kind, g_kind in PLAN]
    return [*cases, grad_mode_off(cases[0])]


def _case(draw: Draw, kind: Kind, g_kind: str) -> Case:
    added = DIMS_ADDED[kind.output]
    need = MIN_DIM.get(g_kind, 0)  # the dims g needs y to have
    min_dim = max(MIN_DIM.get(kind.output, 0), 0 if added is None else need - added)
    shape = draw.shape(kind.shape, min_dim=min_dim, layout=kind.layout)
    x, laid = draw.laid_out(shape, kind.dtype, kind.layout)
    f_name = draw.function(kind, shape)
    tensors = {"x": x, **draw.weights(f_name, "f", x)}
    y = Case(tensors, {"f": f_name}).fn("f")(x)
    if g_kind == "same":
        g_name = draw.choice(G_SAME)
    else:
        g_name = draw.function(replace(kind, output=g_kind, fn=None), tuple(y.shape))
    tensors.update(draw.weights(g_name, "g", y))
    weights = [k for k in tensors if k != "x"]
    if kind.stale:
        tensors["x.grad"] = draw.uniform(shape, kind.dtype, -1.0, 1.0)
    meta = {
        "f": f_name,
        "g": g_name,
        "requires_grad": ["x", *(weights if kind.weights_grad else [])],
        "grad_mode": kind.grad_mode,
        "layout": {"x": laid} if laid != CONTIGUOUS else {},
    }
    return Case(tensors, meta)


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    f, g = untouched.Counted(case.fn("f")), untouched.Counted(case.fn("g"))
    try:
        out = rec.call(fn, rec.watch(f), rec.watch(g), x)
    finally:
        rec.fact("calls", [untouched.count(f.calls), untouched.count(g.calls)])
    rec.value("out", out)
    untouched.record(rec, "x", x)


def gradients(case: Case) -> tuple[torch.Tensor, torch.Tensor]:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    y = case.fn("f")(x)
    dy, dx = torch.autograd.grad(case.fn("g")(y).sum(), (y, x))
    return dy, dx


def where(case: Case) -> str:
    x = case.tensors["x"]
    f = FORMULAS.get(case.meta["f"], case.meta["f"])
    g = re.sub(r"\bx\b", "y", FORMULAS.get(case.meta["g"], case.meta["g"]))
    return f"y = f(x) = {f}; L = g(y).sum(), g(y) = {g}; x: shape {show.shape(x.shape)}, " + (
        show.dtype(x.dtype)
    )


def _pair(facts: dict) -> None:
    out = facts.get("out", {})
    if out.get("kind") not in ("list", "tuple"):
        raise CheckFailed(
            message("type.not_sequence", what="intermediate_grads", n=2, type=expect.type_name(out))
        )
    if int(out.get("len", 0)) != 2:
        raise CheckFailed(message("type.pair", got=out.get("len")))


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        _pair(obs.facts)
        dy, dx = gradients(case)
        x = case.tensors["x"]
        if obs.facts.get("out.0", {}).get("kind") == "none":
            raise CheckFailed(message("diag.dy_none"))
        got_dy = expect.returned(obs, "out.0", "dL/dy")
        got_dx = expect.returned(obs, "out.1", "dL/dx")
        _shape_stories(case, got_dy, got_dx, dy, dx)
        stale = case.tensors.get("x.grad")
        dy_mistakes = [("diag.dx_for_dy", dx)] if dx.shape == dy.shape else []
        dx_mistakes = [("diag.stale_added", stale + dx)] if stale is not None else []
        expect.values(
            got_dy,
            dy,
            where=where(case) + " (dL/dy)",
            dtype=x.dtype,
            predictions=lambda p=dy_mistakes: p,
        )
        expect.values(
            got_dx,
            dx,
            where=where(case) + " (dL/dx)",
            dtype=x.dtype,
            predictions=lambda p=dx_mistakes: p,
        )
    for _case, obs in run.each():
        _once(obs)
    expect.autograd_used(run)


def _shape_stories(
    case: Case, got_dy: torch.Tensor, got_dx: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor
) -> None:
    """Mistakes that show as a wrong shape when f changes it: dL/dx in both places,
    or the two gradients in the wrong order."""
    if dy.numel() == dx.numel():
        return  # the values tell (predictions)
    dtype = case.tensors["x"].dtype

    def like(got: torch.Tensor, want: torch.Tensor) -> bool:
        return got.numel() == want.numel() and diagnose.close(
            got.reshape(want.shape), want, dtype, loose=10
        )

    story = None
    if like(got_dy, dx) and like(got_dx, dy):
        story = "diag.pair_swapped"
    elif like(got_dy, dx):
        story = "diag.dx_for_dy"
    if story:
        raise CheckFailed(
            message(
                "values.shape",
                where=where(case) + " (dL/dy)",
                expected=show.shape(dy.shape),
                got=show.shape(got_dy.shape),
            ).plus(message(story))
        )


def _once(obs: Observation) -> None:
    """f and g ran once each, and one gradient pass went through each output."""
    calls = obs.facts.get("calls") or [None, None]
    for name, n in zip(("f", "g"), calls, strict=False):
        if n != 1:
            raise CheckFailed(message("diag.fg_calls", name=name, n=n))
    passes = obs.facts.get("passes") or []
    if any(type(p) is int and p > 1 for p in passes):
        raise CheckFailed(message("diag.two_passes"))


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        _pair(obs.facts)
        if obs.facts.get("out.0", {}).get("kind") == "none":
            raise CheckFailed(message("diag.dy_none"))
        dy, _dx = gradients(case)
        x = case.tensors["x"]
        expect.tensor_like(obs.facts["out.0"], dy.to(x.dtype), what="dL/dy", device=case.device)
        expect.tensor_like(obs.facts["out.1"], x, what="dL/dx", device=case.device)
    expect.device_agnostic(run, ["out.0", "out.1"], "intermediate_grads")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        for i, what in enumerate(("dL/dy", "dL/dx")):
            expect.detached(obs.facts.get(f"out.{i}", {}), what=what)
        untouched.kept(case, obs, "x", added=gradients(case)[1])
    expect.grad_mode_kept(run)
