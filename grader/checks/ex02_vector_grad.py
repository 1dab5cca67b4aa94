"""Hidden checks for exercise 2: ``vector_grad(f, x)``: the gradient of f(x).sum().

Kinds every run covers (``draw.Kind``): f(x) shaped like x, reduced to 0-d,
reduced along one dim, broadcast to a larger shape, and reshaped by a matrix
product (``backward(torch.ones_like(x))`` is right only for the first); x 0-d,
with size-1 dims and larger; contiguous, transposed, stepped and offset x
(never expanded: forward mode, ``jacfwd`` or ``forward_ad``, cannot take an
expanded primal); float32 and float64; weights that require grad and plain ones; a
call with gradient recording off.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind, grad_mode_off
from grader.checks.run import ExerciseRun, per_case, weight
from grader.layout import OFFSET, STEPPED, TRANSPOSED
from grader.runner.observe import Recorder

PLAN = (
    Kind("same", "large", fn="seed_poly", dtype=F32),  # several elements: a mean shows
    Kind("scalar", "size-1", STEPPED, F64, weights_grad=True),
    Kind("rowwise", "large", OFFSET, F32, weights_grad=True),
    Kind("larger", "0-d", OFFSET, F64),
    Kind("matmul", "large", TRANSPOSED, F32, weights_grad=True),
    Kind("same", "size-1", dtype=F64),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = [draw.single_input(kind) for kind in PLAN]
    return [*cases, grad_mode_off(cases[2])]


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, rec.watch(case.fn()), x)
    untouched.record_values(rec, "x", x)  # first, right after the call
    rec.value("out", out)


@per_case
def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x).sum(), x)
    return g


@per_case
def output(case: Case) -> torch.Tensor:
    return case.fn()(case.tensors["x"])


def _predictions(case: Case) -> list[tuple[str, torch.Tensor]]:
    x, y = case.tensors["x"], output(case)
    found = [("diag.hardcoded_seed", 2 * x + 2)]
    if y.shape == x.shape:
        found.insert(0, ("diag.returned_value", y))
    return found


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        expect.values(
            expect.returned(obs, "out", "gradient"),
            reference(case),
            where=show.case(case),
            dtype=x.dtype,
            numel=output(case).numel(),
            predictions=lambda case=case: _predictions(case),
        )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="gradient", device=case.device)
    expect.device_agnostic(run, ["out"], "gradient")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.detached(obs.facts["out"], what="gradient")
    expect.inputs_kept(run)
    expect.grad_mode_kept(run)
