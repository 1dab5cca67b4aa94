"""Hidden checks for exercise 14: ``jacobian(f, x)``: the (m, n) Jacobian of f at x.

Kinds every run covers: m < n, m > n, m == 1 (f(x) of shape (1,)) and m == n
(where the transpose has the right shape and only its values are wrong); x with
one element (n == 1) and several; contiguous, stepped and offset x (never
expanded: ``torch.func.jacfwd`` writes into its input, which a stride-0 x refuses);
float32 and float64; f closing over weights that require grad (a backward into
them leaves a ``.grad`` there; ``jacrev`` ties the result to them) and over plain
ones; x that requires grad and holds a stale ``.grad`` (which must stay as it
was); a call with gradient recording off. Every hidden f mixes the elements of
x (``grader.functions``: A @ x inside a nonlinearity, plus a term of all of x),
so no row of the Jacobian is a multiple of a unit vector and rows differ.

The values must come from autograd (``expect.autograd_used``): the learner
receives f watched (``grader.runner.backprop``), so finite differences earn no
value points.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grader.cases import Case
from grader.checks import derivatives, diagnose, expect, show
from grader.checks.draw import F32, F64, Draw, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, OFFSET, STEPPED
from grader.messages import message
from grader.runner.observe import Recorder, grad_of

FUNCTIONS = ("jac_tanh", "jac_softplus", "jac_sin")


@dataclass(frozen=True)
class Row:
    sizes: str  # "m<n", "m>n", "m==1", "m==n", "n==1"
    layout: str
    dtype: torch.dtype
    weights_grad: bool = False
    x_grad: bool = False  # x requires grad and holds a stale .grad


PLAN = (
    Row("m<n", CONTIGUOUS, F32),
    Row("m>n", STEPPED, F64, weights_grad=True),
    Row("m==1", OFFSET, F32, weights_grad=True),
    Row("m==n", CONTIGUOUS, F64, x_grad=True),
    Row("n==1", OFFSET, F32, weights_grad=True),
    Row("m<n", STEPPED, F64),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = [_case(draw, row) for row in PLAN]
    return [*cases, grad_mode_off(cases[1])]


def _sizes(draw: Draw, kind: str) -> tuple[int, int]:
    """(m, n) of size kind ``kind``."""
    if kind == "m<n":
        n = draw.integer(3, 6)
        return draw.integer(2, n - 1), n
    if kind == "m>n":
        n = draw.integer(2, 3)
        return draw.integer(n + 1, 5), n
    if kind == "m==1":
        return 1, draw.integer(2, 5)
    if kind == "m==n":
        n = draw.integer(2, 4)
        return n, n
    return draw.integer(2, 4), 1  # n == 1


def _case(draw: Draw, row: Row) -> Case:
    m, n = _sizes(draw, row.sizes)
    x, laid = draw.uniform((n,), row.dtype, -1.0, 1.0), row.layout
    name = draw.choice(FUNCTIONS)
    weights = {"f.A": draw.signed((m, n), row.dtype, 0.2, 0.7)}
    if name == "jac_softplus":
        weights["f.b"] = draw.signed((m,), row.dtype)
    else:
        weights["f.c"] = draw.signed((), row.dtype)
    tensors = {"x": x, **weights}
    requires = list(weights) if row.weights_grad else []
    if row.x_grad:
        tensors["x.grad"] = draw.uniform((n,), row.dtype, -1.0, 1.0)
        requires.append("x")
    meta: dict = {"f": name, "requires_grad": requires, "grad_mode": True}
    if laid != CONTIGUOUS:
        meta["layout"] = {"x": laid}
    return Case(tensors, meta)


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    rec.value("out", rec.call(fn, rec.watch(case.fn()), x))
    rec.fact("x_requires_grad", bool(x.requires_grad))
    rec.tensor("x.grad", grad_of(x))
    for name in case.meta.get("requires_grad", []):
        if name != "x":
            rec.tensor(f"{name}.grad", grad_of(case.tensors[name]))


@per_case
def reference(case: Case) -> torch.Tensor:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    return derivatives.jacobian(case.fn()(x), x)


@per_case
def summed(case: Case) -> torch.Tensor:
    return reference(case).sum(0)


def _mistakes(jac: torch.Tensor) -> list[diagnose.Prediction]:
    m, n = jac.shape
    return [
        ("diag.jacobian_transposed", jac.t().contiguous().reshape(m, n)),
        ("diag.jacobian_accumulated", jac.cumsum(0)),
        ("diag.jacobian_rows_summed", jac.sum(0).expand(m, n)),
        ("diag.jacobian_same_row", jac[:1].expand(m, n)),
    ]


RAISED = {"a second time": "diag.jacobian_retain_graph"}


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    try:
        for case, obs in run.each():
            x = case.tensors["x"]
            jac = reference(case)
            got = expect.returned(obs, "out", "Jacobian")
            m, n = jac.shape
            if m > 1 and got.shape == (n,) and diagnose.close(got, summed(case), x.dtype):
                raise CheckFailed(
                    message(
                        "values.shape",
                        where=show.case(case),
                        expected=show.shape(jac.shape),
                        got=show.shape(got.shape),
                    ).plus(message("diag.jacobian_rows_summed"))
                )
            expect.values(
                got,
                jac,
                where=show.case(case),
                dtype=x.dtype,
                predictions=lambda jac=jac: _mistakes(jac),
            )
    except CheckFailed as failed:
        raise expect.with_raised_diagnosis(run, failed, RAISED) from None
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.tensor_like(obs.facts["out"], reference(case), what="Jacobian", device=case.device)
    expect.device_agnostic(run, ["out"], "Jacobian")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.detached(obs.facts["out"], what="Jacobian")
    for case, obs in run.each():
        if obs.facts.get("x_requires_grad") != ("x" in case.meta.get("requires_grad", [])):
            raise CheckFailed(message("side.x_requires_grad_changed"))
        for name in case.meta.get("requires_grad", []):
            if name != "x" and obs.facts.get(f"{name}.grad", {}).get("kind") != "none":
                raise CheckFailed(message("side.weight_grad_appeared", name=name))
        expect.grad_left_alone(case, obs, "x")
    expect.grad_mode_kept(run)
