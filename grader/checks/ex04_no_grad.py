"""Hidden checks for exercise 4: ``evaluate_without_grad(f, x)``: f(x), no graph.

Kinds every run covers: x requires grad, and f closes over weights that require
grad too (like a model's parameters) or over none (the seed's polynomial);
called with gradient recording on and off (both checked in full: the contract
says it works either way); f(x) shaped like x, reduced to 0-d, reduced along
one dim, broadcast larger, reshaped by a matrix product; x 0-d, with size-1 dims
and larger; contiguous, transposed, stepped, offset and expanded x; x holding a
stale ``.grad`` (which must stay as it was) and none; float32 and float64.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, grad_of, is_grad_enabled

PLAN = (
    Kind("same", "large", dtype=F32, weights_grad=True),
    Kind("scalar", "size-1", STEPPED, F64, weights_grad=True, grad_mode=False),
    Kind("rowwise", "large", EXPANDED, F32, weights_grad=True, stale=True),
    Kind("larger", "0-d", OFFSET, F64, weights_grad=True),
    Kind("matmul", "large", TRANSPOSED, F32, weights_grad=True, stale=True, grad_mode=False),
    Kind("same", "size-1", dtype=F64, fn="seed_poly"),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for kind in PLAN:
        case = draw.single_input(kind)
        case.meta["requires_grad"] = ["x", *case.meta["requires_grad"]]
        cases.append(case)
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    f = case.fn()
    recording: list[bool] = []

    def watched(*args):  # notes whether gradients were being recorded when f ran
        recording.append(bool(is_grad_enabled()))
        return f(*args)

    out = rec.call(fn, watched, x)
    untouched.record_values(rec, "x", x)  # first, right after the call
    rec.value("out", out)
    rec.fact("recording", recording)
    rec.fact("x_requires_grad", bool(x.requires_grad))
    for name in case.meta.get("requires_grad", []):
        rec.tensor(f"{name}.grad", grad_of(case.tensors[name]))


@per_case
def expected(case: Case) -> torch.Tensor:
    with torch.no_grad():
        return case.fn()(case.tensors["x"])


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        want = expected(case)
        expect.values(
            expect.returned(obs, "out", "f(x)"),
            want,
            where=show.case(case),
            dtype=x.dtype,
            predictions=lambda x=x: [("diag.returned_input", x)],
            gradient=False,
        )
        if any(obs.facts.get("recording", [])):
            raise CheckFailed(message("side.graph_recorded"))
        expect.detached(obs.facts["out"], what="f(x)")


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], expected(case), what="f(x)", device=case.device)
    expect.device_agnostic(run, ["out"], "f(x)")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    expect.grad_mode_kept(run)
    for case, obs in run.each():
        if not obs.facts.get("x_requires_grad", True):
            raise CheckFailed(message("side.input_requires_grad_changed"))
        untouched.values_kept(case, obs, "x")
        for name in case.meta.get("requires_grad", []):
            expect.grad_left_alone(case, obs, name)
