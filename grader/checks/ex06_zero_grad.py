"""Hidden checks for exercise 6: ``fresh_grads(fs, x)``: clear .grad before each backward.

Kinds every run covers: one function and several; the very same function twice
in the list; x holding a stale ``.grad`` and none; outputs shaped like x,
reduced to 0-d, reduced along one dim, broadcast larger, reshaped by a matrix
product; x 0-d, with size-1 dims and larger; contiguous, transposed, stepped and
offset x (never expanded, which forward mode cannot take); float32 and float64;
weights that require grad and plain ones; a call with gradient recording off.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from grader.cases import Case
from grader.checks import diagnose, expect, show, untouched
from grader.checks.draw import F32, F64, MIN_DIM, Draw, Kind, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import (
    MAX_ITEMS,
    Recorder,
    flip_bytes,
    grad_of,
    read_bytes,
    shared_pairs,
    storage_ptr,
)

_TENSOR = torch.Tensor

# (the x and its grads, the output kind of each function in fs, entries [j, i]
# where fs[j] is the very same function as fs[i])
PLAN: tuple[tuple[Kind, tuple[str, ...], tuple[tuple[int, int], ...]], ...] = (
    (Kind("same", "large", dtype=F32, stale=True, fn="seed_poly"), ("same", "scalar", "same"), ()),
    (Kind("same", "large", TRANSPOSED, F64, weights_grad=True), ("rowwise", "larger"), ()),
    (Kind("same", "size-1", STEPPED, F32, stale=True), ("same", "scalar", "same"), ((2, 0),)),
    (Kind("same", "large", OFFSET, F64, stale=True), ("matmul", "same"), ()),
    (Kind("same", "0-d", OFFSET, F32), ("larger",), ()),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    for kind, outputs, repeat in PLAN:
        min_dim = max(MIN_DIM.get(o, 0) for o in outputs)
        shape = draw.shape(kind.shape, min_dim=min_dim, layout=kind.layout)
        x, laid = draw.laid_out(shape, kind.dtype, kind.layout)
        tensors: dict[str, torch.Tensor] = {"x": x}
        names: list[str] = []
        weights: list[str] = []
        for k, output in enumerate(outputs):
            first = kind.fn if k == 0 else None  # the seed's polynomial leads row 1
            name = draw.function(replace(kind, output=output, fn=first), shape)
            names.append(name)
            if any(j == k for j, _ in repeat):
                continue  # the same object as an earlier entry: its weights
            found = draw.weights(name, f"fs{k}", x)
            tensors.update(found)
            weights += list(found)
        for j, i in repeat:
            names[j] = names[i]
        if kind.stale:
            tensors["x.grad"] = draw.uniform(shape, x.dtype, -1.0, 1.0)
        meta = {
            "fs": names,
            "fs_repeat": [list(pair) for pair in repeat],
            "requires_grad": ["x", *(weights if kind.weights_grad else [])],
            "layout": {"x": laid} if laid != CONTIGUOUS else {},
        }
        cases.append(Case(tensors, meta))
    return [*cases, grad_mode_off(cases[1])]


def probe(fn, case: Case, rec: Recorder) -> None:
    x = case.tensors["x"]
    out = rec.call(fn, [rec.watch(f) for f in case.fns()], x)
    untouched.record_values(rec, "x", x)  # first: the probe writes to x.grad below
    rec.value("out", out)
    left = grad_of(x)
    rec.tensor("x.grad", left)
    items = list(out)[:MAX_ITEMS] if type(out) in (list, tuple) else []
    tensors = [(i, t) for i, t in enumerate(items) if type(t) is _TENSOR]
    rec.fact("shared_pairs", shared_pairs(out))
    if left is not None and x.device.type != "meta":
        with rec.step("later_grad"):
            rec.fact("changed_by_later_grad", _changed_by_later_grad(left, tensors))


def _changed_by_later_grad(
    left: torch.Tensor, tensors: list[tuple[int, torch.Tensor]]
) -> list[int]:
    """The returned entries that change when x.grad's memory is written later.

    The write goes through the grader's own tensor over x.grad's storage (every bit
    inverted, then inverted back), not through x.grad: the learner may leave an
    inference tensor or an expanded one there, which a plain in-place op refuses.
    """
    live = [(i, t) for i, t in tensors if storage_ptr(t)]  # not on the meta device
    before = {i: read_bytes(t) for i, t in live}
    flip_bytes(left)  # later work on x.grad must not change the returned list
    try:
        return [i for i, t in live if not torch.equal(before[i], read_bytes(t))]
    finally:
        flip_bytes(left)


@per_case
def gradients(case: Case) -> list[torch.Tensor]:
    out = []
    for f in case.fns():
        x = case.tensors["x"].detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(x).sum(), x)
        out.append(g)
    return out


def _mistakes(case: Case, grads: list[torch.Tensor]) -> list[tuple[str, list[torch.Tensor]]]:
    """The whole list each classic mistake returns (one entry per function)."""
    old = case.tensors.get("x.grad", torch.zeros_like(grads[0]))
    running = [sum(grads[: i + 1], torch.zeros_like(grads[0])) for i in range(len(grads))]
    found = [
        ("diag.aliasing", [grads[-1]] * len(grads)),  # x.grad itself, zeroed in place
        ("diag.not_zeroed", [old + r for r in running]),
        ("diag.zeroed_once", running),
    ]
    if "x.grad" in case.tensors:  # cleared after each backward instead of before
        found.append(("diag.stale_kept", [old + grads[0], *grads[1:]]))
    return found


def _diagnosis(
    case: Case, got: list[torch.Tensor], grads: list[torch.Tensor]
) -> tuple[str, list[torch.Tensor]] | None:
    """The one mistake whose whole list matches what came back, if exactly one does."""
    return diagnose.list_story(got, grads, case.tensors["x"].dtype, _mistakes(case, grads))


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, len(case.meta["fs"]), what="fresh_grads")
        grads = gradients(case)
        x = case.tensors["x"]
        got = [expect.returned(obs, f"out.{i}", f"gradient {i + 1} of {n}") for i in range(n)]
        found = _diagnosis(case, got, grads)
        for i, f in enumerate(case.fns()):
            expect.values(
                got[i],
                grads[i],
                where=show.function(case.meta["fs"][i], x) + f" (function {i + 1} of {n})",
                dtype=x.dtype,
                numel=f(x).numel(),
                predictions=lambda i=i, found=found: [(found[0], found[1][i])] if found else [],
            )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, len(case.meta["fs"]), what="fresh_grads")
        expect.items_like(obs, n, case.tensors["x"], what="gradient", device=case.device)
    expect.device_agnostic(run, ["out.0", "out.1"], "fresh_grads")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for _case, obs in run.each():
        expect.items_apart(obs, what="gradient")
        if obs.facts.get("changed_by_later_grad"):
            raise CheckFailed(
                message("side.depends_on_grad", i=obs.facts["changed_by_later_grad"][0] + 1)
            )
    expect.inputs_kept(run)  # x.grad is the contract's business; x's values stay
    expect.grad_mode_kept(run)
