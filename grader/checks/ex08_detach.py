"""Hidden checks for exercise 8: ``detach_alias(x)``: same storage, no grad.

Kinds every run covers: contiguous x, transposed and stepped x (where
``.contiguous()`` or ``.reshape`` copy), x at an offset into a larger buffer;
0-d, size-1 dims and larger; called with gradient recording on and off (both
checked in full); x holding a stale ``.grad`` and none; float32 and float64.
Never expanded.

The alias test writes to x's memory and to the result's through tensors of the
grader's own (``observe.flip_bytes``), for any tensor or NumPy array of x's
number of elements: a view of another shape is still an alias (the type check
reports the shape), while a list, a number or an array copy is a copy.
"""

from __future__ import annotations

import numpy
import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, Kind
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.layout import OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, flip_bytes, grad_of, read_bytes, storage_ptr

_TENSOR = torch.Tensor
_NDARRAY = numpy.ndarray
_np_array = numpy.array

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
    if _could_share(out, x):
        with rec.step("alias"):
            rec.fact("alias", _shares_memory(x, out))


def _could_share(out: object, x: torch.Tensor) -> bool:
    """Whether ``out`` is a tensor or NumPy array of x's number of elements, so the
    write-through test can tell an alias from a copy. Its shape does not matter
    (the type check reports a wrong shape): ``x.detach().view(-1)`` is an alias."""
    if type(out) is _TENSOR:
        return storage_ptr(out) != 0 and out.numel() == x.numel()  # type: ignore[attr-defined]
    if type(out) is _NDARRAY:
        return out.dtype.kind in "biufc" and out.size == x.numel()  # type: ignore[attr-defined]
    return False


def _shares_memory(x: torch.Tensor, out: object) -> bool:
    """A write to x's memory shows in every element of ``out``, and (for a tensor) a
    write to out's memory shows in every element of x.

    The writes invert every bit and go through the grader's own tensors over the
    storage (``flip_bytes``), never through ``out``: they work on any result (an
    inference tensor, a view made under no_grad) and are undone right after.
    """
    before = _bytes(out)
    flip_bytes(x)
    try:
        sees_x = bool(numpy.array_equal(_bytes(out), ~before))
    finally:
        flip_bytes(x)
    if not sees_x or type(out) is not _TENSOR:
        return sees_x  # an array that sees every write to x shares its memory
    x_before = read_bytes(x)
    flip_bytes(out)  # type: ignore[arg-type]
    try:
        return bool(torch.equal(read_bytes(x), x_before.bitwise_not()))
    finally:
        flip_bytes(out)  # type: ignore[arg-type]


def _bytes(out: object) -> numpy.ndarray:
    """The bytes of each element of a tensor or array, in element order."""
    if type(out) is _TENSOR:
        return read_bytes(out).numpy()  # type: ignore[arg-type]
    copy = _np_array(out, copy=True).reshape(-1)  # C order, as the values check reads it
    return copy.view(numpy.uint8).reshape(copy.size, -1)


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
        if obs.facts.get("alias") is True:
            continue
        failed = obs.facts.get("probe_failed", {}).get("alias")
        if failed:  # the grader's own test broke: say so, do not call it a copy
            raise CheckFailed(message("values.alias_unchecked", error=failed))
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
