"""Hidden checks for exercise 1: ``scalar_grad(f, x)`` returns df/dx at a 0-d x.

Kinds every run covers (``draw.Kind``): x is 0-d (the contract), contiguous and
a view at an offset into a larger buffer; float32 and float64; the seed's
polynomial and other scalar functions; f closing over weights that require grad
and over plain ones; a call with gradient recording off.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind, grad_mode_off
from grader.checks.run import ExerciseRun, per_case, weight
from grader.layout import OFFSET
from grader.runner.observe import Recorder, grad_of

PLAN = (
    Kind(shape="0-d", fn="seed_poly", dtype=F32),
    Kind(shape="0-d", layout=OFFSET, dtype=F64, weights_grad=True),
    Kind(shape="0-d", dtype=F32, weights_grad=True),
    Kind(shape="0-d", layout=OFFSET, dtype=F32),
    Kind(shape="0-d", dtype=F64),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = [draw.single_input(kind) for kind in PLAN]
    return [*cases, grad_mode_off(cases[1])]


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, rec.watch(case.fn()), x)
    untouched.record_values(rec, "x", x)  # first, right after the call
    rec.value("out", out)
    rec.tensor("x.grad", grad_of(x))


@per_case
def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x), x)
    return g


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        got = expect.returned(obs, "out", "df/dx")
        expected = reference(case)
        expect.values(
            got,
            expected,
            where=show.case(case),
            dtype=x.dtype,
            predictions=lambda case=case, x=x: [
                ("diag.returned_value", case.fn()(x)),
                ("diag.hardcoded_seed", 2 * x + 2),
            ],
        )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="df/dx", device=case.device)
    expect.device_agnostic(run, ["out"], "df/dx")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.detached(obs.facts["out"], what="df/dx")
    expect.inputs_kept(run)  # x's values; x.requires_grad_() on x itself is allowed
    expect.grad_mode_kept(run)
