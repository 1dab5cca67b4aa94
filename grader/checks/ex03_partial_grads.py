"""Hidden checks for exercise 3: ``partial_grads(f, *xs)``: one gradient per input.

Kinds every run covers: inputs of the same shape (the seed's pair, several
elements so a mean shows) and of different shapes; an input that broadcasts
against another (a row, a 0-d scalar); an input f does not use (its gradient is
zeros, not None); an output shaped like none of the inputs (an outer product);
three inputs; contiguous, transposed, stepped and offset inputs (never expanded,
which forward mode cannot take);
float32 and float64; a weight that requires grad; a call with gradient
recording off.
"""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show, untouched
from grader.checks.draw import F32, F64, Draw, grad_mode_off
from grader.checks.run import ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, OFFSET, STEPPED, TRANSPOSED
from grader.runner.observe import Recorder


def draw_cases(draw: Draw) -> list[Case]:
    same = draw.shape("large")
    unused = draw.shape("large", min_dim=2, layout=TRANSPOSED)
    rows = draw.shape("large", min_dim=1)
    n = draw.integer(2, 5)
    three = draw.shape("large", min_dim=2, layout=STEPPED)
    cases = [
        _case(draw, "seed_pair", [same, same], F32),
        _case(draw, "ignores_second", [unused, draw.shape("size-1")], F64, [TRANSPOSED]),
        _case(draw, "product", [rows, rows[-1:]], F32, [CONTIGUOUS, OFFSET]),
        _case(draw, "outer_pair", [(n,), (draw.choice([m for m in (2, 3, 4, 5) if m != n]),)],
              F64, [OFFSET]),
        _case(draw, "three_way", [three, three[-1:], ()], F32, [STEPPED], weights_grad=True),
        _case(draw, "ratio", [(), draw.shape("size-1")], F64, [OFFSET]),
    ]  # fmt: skip
    return [*cases, grad_mode_off(cases[4])]


def _case(
    draw: Draw,
    name: str,
    shapes: list[tuple[int, ...]],
    dtype: torch.dtype,
    layouts: list[str] = (),  # type: ignore[assignment]
    *,
    weights_grad: bool = False,
) -> Case:
    """Inputs ``x0, x1, ...`` of ``shapes`` laid out as ``layouts`` (in order; the
    rest contiguous), for the function ``name``."""
    tensors: dict[str, torch.Tensor] = {}
    laid: dict[str, str] = {}
    for i, shape in enumerate(shapes):
        layout = layouts[i] if i < len(layouts) else CONTIGUOUS
        tensors[f"x{i}"], how = draw.laid_out(shape, dtype, layout)
        if how != CONTIGUOUS:
            laid[f"x{i}"] = how
    weights = draw.weights(name, "f", tensors["x0"])
    tensors.update(weights)
    meta = {
        "f": name,
        "n_x": len(shapes),
        "requires_grad": list(weights) if weights_grad else [],
        "layout": laid,
    }
    return Case(tensors, meta)


def probe(fn, case: Case, rec: Recorder) -> None:
    xs = case.inputs("x")
    out = rec.call(fn, rec.watch(case.fn()), *xs)
    for i, x in enumerate(xs):  # first, right after the call
        untouched.record_values(rec, f"x{i}", x)
    rec.value("out", out)


@per_case
def reference(case: Case) -> list[torch.Tensor]:
    xs = [x.detach().clone().requires_grad_(True) for x in case.inputs("x")]
    grads = torch.autograd.grad(case.fn()(*xs).sum(), xs, allow_unused=True, materialize_grads=True)
    return list(grads)


@per_case
def output(case: Case) -> torch.Tensor:
    return case.fn()(*case.inputs("x"))


@weight(6)
@expect.source_first(expect.autograd_used)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, int(case.meta["n_x"]), what="partial_grads")
        expected = reference(case)
        xs = case.inputs("x")
        for i in range(n):
            others = [
                ("diag.swapped", expected[j])
                for j in range(n)
                if j != i and expected[j].shape == expected[i].shape
            ]  # cheap: already computed
            # the derivatives of the seed's a**2 + 2*a + 7 + b**2, typed in by hand
            others.append(("diag.hardcoded_seed_pair", 2 * xs[i] + 2 if i == 0 else 2 * xs[i]))
            expect.values(
                expect.returned(obs, f"out.{i}", f"gradient {i + 1} of {n}"),
                expected[i],
                where=show.case(case, inputs=tuple(f"x{k}" for k in range(n)))
                + f" (the gradient for {show.input_name(case.meta['f'], i)})",
                dtype=xs[i].dtype,
                numel=output(case).numel(),
                predictions=lambda others=others: others,
            )
    expect.autograd_used(run)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, int(case.meta["n_x"]), what="partial_grads")
        for i, x in enumerate(case.inputs("x")[:n]):
            expect.tensor_like(
                obs.facts[f"out.{i}"], x, what=f"gradient {i + 1} of {n}", device=case.device
            )
    expect.device_agnostic(run, ["out.0", "out.1"], "partial_grads")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = int(obs.facts.get("out", {}).get("len", 0) or 0)
        for i in range(min(n, int(case.meta["n_x"]))):
            expect.detached(obs.facts.get(f"out.{i}", {}), what=f"gradient {i + 1} of {n}")
    expect.inputs_kept(run, _inputs)
    expect.grad_mode_kept(run)


def _inputs(case: Case) -> list[tuple[str, str]]:
    """Each input's name in the case, and in the formula (what the feedback says)."""
    return [(f"x{i}", show.input_name(case.meta["f"], i)) for i in range(int(case.meta["n_x"]))]
