"""Hidden checks for exercise 2: ``vector_grad(f, x)``: the gradient of f(x).sum()."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import Draw, grad_mode_off, unary_for
from grader.checks.run import ExerciseRun, weight
from grader.runner.observe import Recorder


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for i in range(5):
        # the first case has several elements, so a mean is told from a sum
        shape = draw.shape(min_dim=1 if i < 3 else 0, min_numel=4 if i == 0 else 1)
        name = "seed_poly" if i == 0 else draw.choice(unary_for(shape))
        x = draw.uniform(shape, draw.dtype())
        cases.append(Case({"x": x, **draw.weights(name, "f", x)}, {"f": name}))
    cases.append(grad_mode_off(draw.choice(cases)))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    rec.value("out", rec.call(fn, case.fn(), case.tensors["x"]))


def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x).sum(), x)
    return g


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        y = case.fn()(x)
        predictions = [("diag.hardcoded_seed", 2 * x + 2)]
        if y.shape == x.shape:
            predictions.insert(0, ("diag.returned_value", y))
        expect.values(
            expect.returned(obs, "out", "gradient"),
            reference(case),
            where=show.case(case),
            dtype=x.dtype,
            numel=y.numel(),
            predictions=lambda p=predictions: p,
        )


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="gradient", device=case.device)
    expect.device_agnostic(run, ["out"], "gradient")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.detached(obs.facts["out"], what="gradient")
    expect.grad_mode_kept(run)
