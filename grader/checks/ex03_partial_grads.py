"""Hidden checks for exercise 3: ``partial_grads(f, *xs)``: one gradient per input."""

from __future__ import annotations

import torch

from grader.cases import Case
from grader.checks import expect, show
from grader.checks.draw import Draw, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.messages import message
from grader.runner.observe import Recorder

# (function, number of inputs)
FUNCTIONS = (
    ("seed_pair", 2),
    ("product", 2),
    ("ratio", 2),
    ("ignores_second", 2),
    ("three_way", 3),
)


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    chosen = [("ignores_second", 2), ("seed_pair", 2), *draw.shuffled(FUNCTIONS)[:3]]
    for name, n in chosen:
        dtype = draw.dtype()
        # the seed's pair has several elements, so a mean is told from a sum
        base = draw.shape(min_numel=4 if name == "seed_pair" else 1)
        shapes = [base] * n
        if len(base) >= 1 and draw.coin():  # broadcasting: a later input drops leading dims
            shapes[-1] = base[-1:]
        tensors = {f"x{i}": draw.uniform(s, dtype) for i, s in enumerate(shapes)}
        tensors.update(draw.weights(name, "f", tensors["x0"]))
        cases.append(Case(tensors, {"f": name, "n_x": n}))
    cases.append(grad_mode_off(draw.choice(cases)))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    rec.value("out", rec.call(fn, case.fn(), *case.inputs("x")))


def reference(case: Case) -> list[torch.Tensor]:
    xs = [x.detach().clone().requires_grad_(True) for x in case.inputs("x")]
    grads = torch.autograd.grad(case.fn()(*xs).sum(), xs, allow_unused=True, materialize_grads=True)
    return list(grads)


def _items(run: ExerciseRun, case: Case, facts: dict, what: str) -> int:
    """The number of results, failing unless it is a tuple/list of one per input."""
    n = int(case.meta["n_x"])
    out = facts.get("out", {})
    if out.get("kind") not in ("tuple", "list"):
        raise CheckFailed(message("type.not_sequence", what=what, n=n, type=expect.type_name(out)))
    if int(out.get("len", 0)) != n:
        raise CheckFailed(message("type.length", what=what, n=n, got=out.get("len")))
    return n


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _items(run, case, obs.facts, "partial_grads")
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
                numel=case.fn()(*xs).numel(),
                predictions=lambda others=others: others,
            )


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _items(run, case, obs.facts, "partial_grads")
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
    expect.grad_mode_kept(run)
