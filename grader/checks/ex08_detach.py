"""Hidden checks for exercise 8: ``detach_alias(x)``: same storage, no grad.

Kinds every run covers: contiguous x, transposed and stepped x (where
``.contiguous()`` or ``.reshape`` copy), x at an offset into a larger buffer;
0-d, size-1 dims and larger; called with gradient recording on and off (both
checked in full); x holding a stale ``.grad`` and none; float32 and float64.
Never expanded: the check writes through x to see the alias.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.layout import OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, cpu_copy, grad_of

_TENSOR = torch.Tensor

PLAN = (
    Kind(shape="large", dtype=F32),
    Kind(shape="large", layout=TRANSPOSED, dtype=F64, grad_mode=False),
    Kind(shape="size-1", layout=OFFSET, dtype=F32, stale=True),
    Kind(shape="0-d", layout=OFFSET, dtype=F64),
    Kind(shape="large", layout=STEPPED, dtype=F32, stale=True),
    Kind(shape="size-1", layout=TRANSPOSED, dtype=F64, stale=True, grad_mode=False),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for kind in PLAN:
        case = draw.single_input(kind)
        tensors = {k: v for k, v in case.tensors.items() if not k.startswith("f.")}
        meta = {k: v for k, v in case.meta.items() if k != "f"}
        meta["requires_grad"] = ["x"]
        cases.append(Case(tensors, meta))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, x)
    untouched.record_values(rec, "x", x)  # first: the probe writes through x below
    rec.value("out", out)
    rec.fact("x_requires_grad", bool(x.requires_grad))
    rec.tensor("x.grad", grad_of(x))
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
    for case, obs in run.each():
        expect.grad_left_alone(case, obs, "x")
    expect.inputs_kept(run)  # the result may share x's memory; x's values stay
    expect.grad_mode_kept(run)
