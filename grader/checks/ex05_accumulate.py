"""Hidden checks for exercise 5: ``accumulated_grad(f, x, times)``: .grad accumulates.

Kinds every run covers: times = 1 and times > 1; x holding a stale ``.grad``
(which must be kept) and none; f(x) shaped like x, reduced to 0-d, reduced along
one dim, broadcast larger, reshaped by a matrix product; x 0-d, with size-1 dims
and larger; contiguous, transposed, stepped and offset x (never expanded, which
forward mode cannot take); float32 and float64; weights that require grad and
plain ones; a call with gradient recording off.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.execute import Observation
from grader.runner.observe import Recorder, grad_of

MANY = 0  # a `times` of 2 to 4, drawn
PLAN = (  # (kind, times)
    (Kind("same", "large", fn="seed_poly", dtype=F32, stale=True), 2),  # one off names itself
    (Kind("scalar", "size-1", STEPPED, F64, weights_grad=True), MANY),
    (Kind("rowwise", "large", OFFSET, F32, stale=True), 1),
    (Kind("larger", "0-d", OFFSET, F64, stale=True), MANY),
    (Kind("matmul", "large", TRANSPOSED, F32, weights_grad=True), 1),
    (Kind("same", "size-1", dtype=F64, weights_grad=True), MANY),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for kind, times in PLAN:
        case = draw.single_input(kind)
        case.meta["requires_grad"] = ["x", *case.meta["requires_grad"]]
        case.meta["times"] = times or draw.integer(2, 4)
        cases.append(case)
    return [*cases, grad_mode_off(cases[0])]


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, rec.watch(case.fn()), x, int(case.meta["times"]))
    untouched.record_values(rec, "x", x)  # first, right after the call
    rec.value("out", out)
    rec.tensor("x.grad", grad_of(x))


@per_case
def gradient(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x).sum(), x)
    return g


def stale(case: Case) -> torch.Tensor:
    return case.tensors.get("x.grad", torch.zeros_like(case.tensors["x"]))


@per_case
def expected(case: Case) -> torch.Tensor:
    return stale(case) + int(case.meta["times"]) * gradient(case)


def _predictions(case: Case) -> list[diagnose.Prediction]:
    """What classic mistakes return; each story is listed only where it differs
    from the others (with no stale grad, "cleared each time" and "backward ran
    once" both give one gradient, which ``diag.backward_once`` names as either)."""
    g, old, times = gradient(case), stale(case), int(case.meta["times"])
    has_stale = "x.grad" in case.tensors
    n = case.fn()(case.tensors["x"]).numel()
    found: list[diagnose.Prediction] = []
    if has_stale:
        found.append(("diag.stale_ignored", times * g))
        if times > 1:
            found.append(("diag.cleared_each_time", g))
            found.append(("diag.multiplied_stale", times * (old + g)))
    if times > 1:
        found.append(("diag.backward_once", old + g))
    if times > 2:
        found.append(("diag.times_off_by_one", old + (times - 1) * g))
    found.append(("diag.times_off_by_one", old + (times + 1) * g))
    if n > 1:
        found.append(("diag.mean_loss", old + times * g / n))
    return found


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        expect.values(
            expect.returned(obs, "out", "x.grad"),
            expected(case),
            where=show.case(case) + f", times={case.meta['times']}",
            dtype=x.dtype,
            numel=x.numel(),
            predictions=lambda case=case: _predictions(case),
        )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="x.grad", device=case.device)
    expect.device_agnostic(run, ["out"], "x.grad")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.detached(obs.facts["out"], what="x.grad")
        if not _grad_holds_result(case, obs):
            raise CheckFailed(message("side.grad_not_accumulated"))
    expect.inputs_kept(run)  # x.grad grows by contract; x's values stay
    expect.grad_mode_kept(run)


def _grad_holds_result(case: Case, obs: Observation) -> bool:
    """Whether x.grad after the call holds the accumulated gradient, or at least
    what the function returned (a wrong number there is the values check's to
    report; here only whether the accumulation happened in x.grad itself)."""
    left = obs.tensors.get("x.grad")
    if left is None:
        return False
    dtype = case.tensors["x"].dtype
    if diagnose.close(left, expected(case), dtype):
        return True
    try:
        got = expect.returned(obs, "out", "x.grad")
    except CheckFailed:
        return False
    if got.numel() == left.numel():
        got = got.reshape(left.shape)
    return diagnose.close(left, got, dtype)
