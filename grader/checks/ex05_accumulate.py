"""Hidden checks for exercise 5: ``accumulated_grad(f, x, times)``: .grad accumulates."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show
from grader.checks.draw import Draw, unary_for
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.messages import message
from grader.runner.observe import Recorder, grad_of


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for i in range(4):
        shape = draw.shape()
        name = "seed_poly" if i == 0 else draw.choice(unary_for(shape))
        x = draw.uniform(shape, draw.dtype())
        tensors = {"x": x, **draw.weights(name, "f", x)}
        if i in (1, 3) or draw.coin():  # a stale gradient from earlier work
            tensors["x.grad"] = draw.uniform(shape, x.dtype, -1.0, 1.0)
        times = 2 + i % 3 if i < 3 else draw.integer(1, 4)
        cases.append(Case(tensors, {"f": name, "times": times, "requires_grad": ["x"]}))
    x = torch.empty((2, 2), dtype=draw.dtype(), device="meta")
    meta = {"f": "seed_poly", "times": 2, "requires_grad": ["x"], "device": "meta"}
    cases.append(Case({"x": x}, meta))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    rec.value("out", rec.call(fn, case.fn(), x, int(case.meta["times"])))
    rec.tensor("x.grad", grad_of(x))


def gradient(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(case.fn()(x).sum(), x)
    return g


def stale(case: Case) -> torch.Tensor:
    return case.tensors.get("x.grad", torch.zeros_like(case.tensors["x"]))


def expected(case: Case) -> torch.Tensor:
    return stale(case) + int(case.meta["times"]) * gradient(case)


def _predictions(case: Case) -> list[diagnose.Prediction]:
    g, old, times = gradient(case), stale(case), int(case.meta["times"])
    found = [
        ("diag.cleared_each_time", g),
        ("diag.cleared_each_time", old + g),
        ("diag.times_off_by_one", old + (times + 1) * g),
        ("diag.times_off_by_one", old + (times - 1) * g),
    ]
    if "x.grad" in case.tensors:
        found.insert(0, ("diag.stale_ignored", times * g))
    return found


@weight(6)
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


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], case.tensors["x"], what="x.grad", device=case.device)
    expect.meta_device(run, ["out"], "x.grad")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.detached(obs.facts["out"], what="x.grad")
        expect.grad_mode_restored(case, obs)
        left = obs.tensors.get("x.grad")
        if left is None or not diagnose.close(left, expected(case), case.tensors["x"].dtype):
            raise CheckFailed(message("side.grad_not_accumulated"))
