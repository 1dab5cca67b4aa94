"""Hidden checks for exercise 1: ``scalar_grad(f, x)`` returns df/dx at a 0-d x."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import UNARY, Draw, grad_mode_off
from grader.checks.run import ExerciseRun, weight
from grader.runner.observe import Recorder, grad_of


def draw_cases(draw: Draw) -> list[Case]:
    names = ["seed_poly", *draw.shuffled([n for n in UNARY if n != "seed_poly"])[:4]]
    cases = []
    for name in names:
        x = draw.uniform((), draw.dtype())
        cases.append(Case({"x": x, **draw.weights(name, "f", x)}, {"f": name}))
    cases.append(grad_mode_off(draw.choice(cases)))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    rec.value("out", rec.call(fn, case.fn(), x))
    rec.tensor("x.grad", grad_of(x))


def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x), x)
    return g


@weight(6)
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


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="df/dx", device=case.device)
    expect.device_agnostic(run, ["out"], "df/dx")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.detached(obs.facts["out"], what="df/dx")
    expect.grad_mode_kept(run)
