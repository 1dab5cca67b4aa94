"""Hidden checks for exercise 4: ``evaluate_without_grad(f, x)``: f(x), no graph."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import Draw
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.messages import message
from grader.runner.observe import Recorder, grad_of, is_grad_enabled

# Functions that close over weights which require grad, like a model's parameters.
WITH_WEIGHTS = ("scaled_tanh", "broadcast", "cubic", "matmul", "trig", "norm")


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    names = [*draw.shuffled(WITH_WEIGHTS)[:4], "seed_poly"]
    for i, name in enumerate(names):
        shape = draw.shape(min_dim=1 if name == "matmul" else 0)
        x = draw.uniform(shape, draw.dtype())
        weights = draw.weights(name, "f", x)
        grad_mode = i != 1 and (i == 0 or draw.coin(0.7))  # case 1: called under no_grad
        meta = {"f": name, "requires_grad": ["x", *weights], "grad_mode": grad_mode}
        cases.append(Case({"x": x, **weights}, meta))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    f = case.fn()
    recording: list[bool] = []

    def watched(*args):  # notes whether gradients were being recorded when f ran
        recording.append(bool(is_grad_enabled()))
        return f(*args)

    rec.value("out", rec.call(fn, watched, x))
    rec.fact("recording", recording)
    rec.fact("x_requires_grad", bool(x.requires_grad))
    for name in case.meta.get("requires_grad", []):
        rec.tensor(f"{name}.grad", grad_of(case.tensors[name]))


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
        for name in case.meta.get("requires_grad", []):
            if obs.facts.get(f"{name}.grad", {}).get("kind") == "tensor":
                raise CheckFailed(message("side.grad_appeared", name=name))
