"""Hidden checks for exercise 15: ``to_numpy(t)``: a NumPy array with t's shape,
values and dtype.

Kinds every run covers: t that requires grad (a leaf, and the result of a
computation: a view of a leaf, with a grad_fn) and t that does not; t 0-d, with
size-1 dims and larger; contiguous, transposed, stepped, offset and expanded t;
float32 and float64; called with gradient recording on and off (both checked in
full); a stale ``.grad`` and none.

One case is pinned to the CPU and runs without the device watch, on every
grading device, and comes first: there ``t.numpy()`` fails only because t
requires grad, so that mistake is named for what it is, while
``t.detach().numpy()`` passes there and fails on the cases that stand for a GPU.

On a CPU-only machine the device watch (``grader.runner.devicewatch``) makes
``.numpy()`` of a tensor that would still be on the GPU raise the TypeError CUDA
raises, so ``t.detach().numpy()`` fails here as it would on a GPU. The result
must be a NumPy array for the values to count: a tensor handed back unconverted
is the input, not an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import F32, F64, Draw
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.layout import CONTIGUOUS, EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, grad_of


@dataclass(frozen=True)
class Row:
    shape: str
    layout: str
    dtype: torch.dtype
    grad: bool  # t requires grad
    computed: bool = False  # t is a view of the leaf x, with a grad_fn
    grad_mode: bool = True
    stale: bool = False
    cpu: bool = False  # pinned to the CPU, run without the device watch


PLAN = (
    Row("large", CONTIGUOUS, F32, grad=True, cpu=True),  # where requires grad alone shows
    Row("large", CONTIGUOUS, F32, grad=True),
    Row("large", TRANSPOSED, F64, grad=True, stale=True),
    Row("0-d", OFFSET, F32, grad=False),
    Row("size-1", STEPPED, F64, grad=True, computed=True),
    Row("large", EXPANDED, F32, grad=False, grad_mode=False),
    Row("size-1", OFFSET, F64, grad=True, grad_mode=False),
    Row("0-d", CONTIGUOUS, F64, grad=True, computed=True),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for row in PLAN:
        shape = draw.shape(row.shape, layout=row.layout)
        x, laid = draw.laid_out(shape, row.dtype, row.layout)
        tensors = {"x": x}
        if row.stale:
            tensors["x.grad"] = draw.uniform(shape, row.dtype, -1.0, 1.0)
        meta: dict = {
            "requires_grad": ["x"] if row.grad else [],
            "grad_mode": row.grad_mode,
            "computed": row.computed,
        }
        if laid != CONTIGUOUS:
            meta["layout"] = {"x": laid}
        if row.cpu:
            meta.update(device="cpu", watch_device=False)
            tensors = {k: v.cpu() for k, v in tensors.items()}
        cases.append(Case(tensors, meta))
    return cases


def input_of(case: Case) -> torch.Tensor:
    """t as the learner receives it: the leaf x, or a view of it with a grad_fn."""
    x = case.tensors["x"]
    if case.meta.get("computed"):
        with torch.enable_grad():
            return x[...]
    return x


def probe(fn, case: Case, rec: Recorder) -> None:
    t = input_of(case)
    rec.value("out", rec.call(fn, t))
    rec.fact("t_requires_grad", bool(t.requires_grad))
    rec.fact("t_grad_fn", t.grad_fn is not None)
    rec.tensor("t_after", t)
    rec.tensor("x.grad", grad_of(case.tensors["x"]))


NOT_ARRAY = {
    "tensor": "diag.numpy_not_converted",
    "subclass": "diag.numpy_not_converted",
    "list": "diag.numpy_list",
    "tuple": "diag.numpy_list",
    "number": "diag.numpy_number",
}
RAISED = {
    "Can't call numpy() on Tensor that requires grad": "diag.numpy_requires_grad",
    "device type tensor to numpy": "diag.numpy_on_gpu",
    "requires_grad flags of leaf variables": "diag.numpy_requires_grad_off",
}


def numpy_dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")  # float32 -> "float32", as NumPy names it


@weight(6)
def test_values(run: ExerciseRun) -> None:
    try:
        for case, obs in run.each():
            x = case.tensors["x"]
            facts = obs.facts["out"]
            kind = str(facts.get("kind"))
            if kind != "numpy" or "out" not in obs.tensors:
                said = message("values.not_numpy", type=expect.type_name(facts))
                if kind in NOT_ARRAY:
                    said = said.plus(message(NOT_ARRAY[kind]))
                raise CheckFailed(said)
            expect.values(
                expect.returned(obs, "out", "to_numpy(t)"),
                x,
                where=show.case(case, inputs=("x",)).replace("x:", "t:", 1),
                dtype=x.dtype,
                gradient=False,
            )
    except CheckFailed as failed:
        raise expect.with_raised_diagnosis(run, failed, RAISED) from None


@weight(2)
def test_type(run: ExerciseRun) -> None:
    """The array's shape and dtype. Whether it is an array at all is the values'
    business (a tensor handed back is the input, not an answer)."""
    for case, obs in run.each():
        x = case.tensors["x"]
        facts = obs.facts["out"]
        if facts.get("kind") != "numpy":
            continue
        if list(facts.get("shape", [])) != list(x.shape):
            raise CheckFailed(
                message(
                    "type.shape",
                    what="to_numpy(t)",
                    expected=show.shape(x.shape),
                    got=show.shape(facts.get("shape", [])),
                )
            )
        if facts.get("dtype") != numpy_dtype(x.dtype):
            raise CheckFailed(
                message(
                    "type.numpy_dtype",
                    what="to_numpy(t)",
                    expected=numpy_dtype(x.dtype),
                    got=str(facts.get("dtype", "?")),
                )
            )


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        wanted = "x" in case.meta.get("requires_grad", [])
        if obs.facts.get("t_requires_grad") != wanted or obs.facts.get("t_grad_fn") != bool(
            case.meta.get("computed") and wanted
        ):
            raise CheckFailed(message("side.t_detached"))
        after = obs.tensors.get("t_after")
        if after is None or not torch.equal(after, case.tensors["x"].cpu()):
            raise CheckFailed(message("side.x_changed", name="t"))
        expect.grad_left_alone(case, obs, "x")
    expect.grad_mode_kept(run)
