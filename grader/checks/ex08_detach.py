"""Hidden checks for exercise 8: ``detach_alias(x)``: same storage, no grad."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import Draw
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.messages import message
from grader.runner.observe import Recorder, cpu_copy

_TENSOR = torch.Tensor


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for i in range(4):
        x = draw.uniform(draw.shape(), draw.dtype())
        cases.append(Case({"x": x}, {"requires_grad": ["x"], "grad_mode": i != 1}))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, x)
    rec.value("out", out)
    rec.fact("x_requires_grad", bool(x.requires_grad))
    if type(out) is not _TENSOR or out.device.type == "meta" or out.shape != x.shape:
        return
    with torch.no_grad():
        before = cpu_copy(out)
        x.add_(1.0)  # a write to x must show in the result ...
        rec.fact("sees_x", bool(torch.allclose(cpu_copy(out), before + 1.0)))
        x_before = cpu_copy(x)
        out.add_(2.0)  # ... and a write to the result must show in x
        rec.fact("x_sees", bool(torch.allclose(cpu_copy(x), x_before + 2.0)))


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        x = case.tensors["x"]
        expect.values(
            expect.returned(obs, "out", "detach_alias(x)"),
            x,
            where=show.case(case),
            dtype=x.dtype,
            gradient=False,
        )
        if obs.facts["out"].get("kind") == "tensor" and not (
            obs.facts.get("sees_x") and obs.facts.get("x_sees")
        ):
            raise CheckFailed(message("diag.copy_not_alias"))


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(
            obs.facts["out"], case.tensors["x"], what="detach_alias(x)", device=case.device
        )
    expect.device_agnostic(run, ["out"], "detach_alias(x)")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        facts = obs.facts["out"]
        if facts.get("kind") == "tensor" and (facts.get("requires_grad") or facts.get("grad_fn")):
            raise CheckFailed(message("side.alias_requires_grad"))
        if not obs.facts.get("x_requires_grad", True):
            raise CheckFailed(message("side.x_lost_requires_grad"))
    expect.grad_mode_kept(run)
