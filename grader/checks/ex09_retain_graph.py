"""Hidden checks for exercise 9: ``shared_trunk_grads(trunk, heads, x)``: one gradient
per head through a trunk that runs once.

Kinds every run covers: two heads and more (three, four); heads whose outputs
have different shapes (like x, 0-d, reduced along a dim, larger, reshaped by a
matrix product); trunks whose output is shaped like x, larger, reduced and
reshaped; every trunk saves tensors for backward, so a second backward through
it without ``retain_graph=True`` raises; x 0-d, with size-1 dims and larger;
contiguous, transposed, stepped, offset and expanded x; float32 and float64;
weights that require grad and plain ones; a call with gradient recording off.
The trunk's calls are counted: once in all.
"""

from __future__ import annotations

import re
from dataclasses import replace

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show, untouched
from grader.checks.draw import F32, F64, MIN_DIM, Draw, Kind, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.functions import FORMULAS
from grader.layout import CONTIGUOUS, EXPANDED, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import Recorder, shared_pairs

# (x with the trunk's output kind, the output kinds of the heads)
PLAN: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind("same", "large", fn="seed_poly", dtype=F32), ("same", "scalar")),
    (Kind("matmul", "size-1", STEPPED, F64, weights_grad=True), ("rowwise", "same", "larger")),
    (Kind("larger", "0-d", OFFSET, F32), ("scalar", "matmul")),
    (Kind("rowwise", "large", TRANSPOSED, F64, weights_grad=True),
     ("same", "same", "scalar", "matmul")),
    (Kind("same", "large", EXPANDED, F32), ("matmul", "larger")),
    (Kind("scalar", "size-1", CONTIGUOUS, F64), ("same", "larger")),
)  # fmt: skip

DIMS_ADDED = {"same": 0, "matmul": 0, "larger": 1, "rowwise": -1, "scalar": None}
"""How many dims the trunk adds to x (None: it returns a 0-d tensor)."""


def draw_cases(draw: Draw) -> list[Case]:
    cases = [_case(draw, kind, heads) for kind, heads in PLAN]
    return [*cases, grad_mode_off(cases[0])]


def _case(draw: Draw, kind: Kind, heads: tuple[str, ...]) -> Case:
    z_dims = max(MIN_DIM.get(h, 0) for h in heads)  # the dims the heads need
    added = DIMS_ADDED[kind.output]
    min_dim = max(MIN_DIM.get(kind.output, 0), 0 if added is None else z_dims - added)
    shape = draw.shape(kind.shape, min_dim=min_dim, layout=kind.layout)
    x, laid = draw.laid_out(shape, kind.dtype, kind.layout)
    trunk = draw.function(kind, shape)
    tensors = {"x": x, **draw.weights(trunk, "trunk", x)}
    z = Case(tensors, {"trunk": trunk}).fn("trunk")(x)
    names = []
    for i, output in enumerate(heads):
        name = draw.function(replace(kind, output=output, fn=None), tuple(z.shape))
        names.append(name)
        tensors.update(draw.weights(name, f"heads{i}", z))
    weights = [k for k in tensors if k != "x"]
    meta = {
        "trunk": trunk,
        "heads": names,
        "requires_grad": weights if kind.weights_grad else [],
        "grad_mode": kind.grad_mode,
        "layout": {"x": laid} if laid != CONTIGUOUS else {},
    }
    return Case(tensors, meta)


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    trunk = untouched.Counted(case.fn("trunk"))
    watched = rec.watch(trunk)  # first: its passes come first in the recorded list
    heads = [rec.watch(h) for h in case.fns("heads")]
    try:
        out = rec.call(fn, watched, heads, x)
    finally:
        rec.fact("trunk_calls", untouched.count(trunk.calls))
    rec.value("out", out)
    rec.fact("shared_pairs", shared_pairs(out))
    untouched.record(rec, "x", x)


def gradients(case: Case) -> list[torch.Tensor]:
    x = case.tensors["x"].detach().clone().requires_grad_(True)
    z = case.fn("trunk")(x)
    return [torch.autograd.grad(h(z).sum(), x, retain_graph=True)[0] for h in case.fns("heads")]


def _mistakes(grads: list[torch.Tensor]) -> list[tuple[str, list[torch.Tensor]]]:
    """The whole list each classic mistake returns (one entry per head)."""
    running = [sum(grads[: i + 1], torch.zeros_like(grads[0])) for i in range(len(grads))]
    return [
        ("diag.heads_accumulated", running),  # .grad never cleared between heads
        ("diag.heads_aliased", [grads[-1]] * len(grads)),  # .grad itself, zeroed in place
        ("diag.heads_summed", [running[-1]] * len(grads)),  # all heads in one backward
    ]


def _diagnosis(
    case: Case, got: list[torch.Tensor], grads: list[torch.Tensor]
) -> tuple[str, list[torch.Tensor]] | None:
    """The one mistake whose whole list matches what came back, if exactly one does."""
    return diagnose.list_story(got, grads, case.tensors["x"].dtype, _mistakes(grads))


def where(case: Case, i: int) -> str:
    """``trunk = ...; head 2 of 3 = ...(z); x: shape (2, 3), float32``."""
    x = case.tensors["x"]
    heads = case.meta["heads"]
    trunk = FORMULAS.get(case.meta["trunk"], case.meta["trunk"])
    head = re.sub(r"\bx\b", "z", FORMULAS.get(heads[i], heads[i]))
    return (
        f"z = trunk(x) = {trunk}; head {i + 1} of {len(heads)} = {head}; "
        f"x: shape {show.shape(x.shape)}, {show.dtype(x.dtype)}"
    )


def _heads(case: Case, facts: dict) -> int:
    """How many gradients came back: one per head, or the type check says why not."""
    n = len(case.meta["heads"])
    return expect.sequence(facts, n, what="shared_trunk_grads", length_key="type.heads_length")


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    try:
        _values(run)
    except CheckFailed as failed:
        said = failed.feedback.render()
        if failed.feedback.key == "raised.exception" and "a second time" in said:
            raise CheckFailed(failed.feedback.plus(message("diag.retain_graph"))) from None
        raise


def _values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _heads(case, obs.facts)
        grads = gradients(case)
        x = case.tensors["x"]
        got = [expect.returned(obs, f"out.{i}", f"gradient {i + 1} of {n}") for i in range(n)]
        found = _diagnosis(case, got, grads)
        for i in range(n):
            expect.values(
                got[i],
                grads[i],
                where=where(case, i),
                dtype=x.dtype,
                predictions=lambda i=i, found=found: [(found[0], found[1][i])] if found else [],
            )
    for _case, obs in run.each():
        calls = obs.facts.get("trunk_calls")
        if calls != 1:
            raise CheckFailed(message("diag.trunk_calls", n=calls))
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _heads(case, obs.facts)
        expect.items_like(obs, n, case.tensors["x"], what="gradient", device=case.device)
    expect.device_agnostic(run, ["out.0", "out.1"], "shared_trunk_grads")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        expect.items_apart(obs, what="gradient")
        untouched.kept(case, obs, "x")
    expect.grad_mode_kept(run)
