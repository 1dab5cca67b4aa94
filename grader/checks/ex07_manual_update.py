"""Hidden checks for exercise 7: ``gradient_descent(f, params, lr, steps)``."""

from __future__ import annotations

import ast

import torch
from torch.optim.sgd import sgd

from grader.cases import Case
from grader.checks import diagnose, expect, show
from grader.checks.draw import Draw, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, weight
from grader.messages import message
from grader.runner.observe import MAX_ITEMS, Recorder

LOOSE = 10.0  # several steps of float32 arithmetic: 10x the usual tolerance


def draw_cases(draw: Draw) -> list[Case]:
    cases = []
    kinds = [*draw.shuffled(["seed_loss", "regression", "coupled"]), "seed_loss"]
    for index, kind in enumerate(kinds):
        dtype = draw.dtype()
        if kind == "seed_loss":
            shape = draw.choice([(2, 3), (4,), (3, 3, 3), ()])
            params = [draw.uniform(shape, dtype), draw.uniform(shape, dtype)]
            weights: dict[str, torch.Tensor] = {}
            lr = 0.05 + 0.4 * draw.integer(0, 10) / 10
        elif kind == "regression":
            params = [draw.uniform((3,), dtype, -1, 1), draw.uniform((), dtype, -1, 1)]
            weights = {"f.x": draw.uniform((6, 3), dtype, -1, 1), "f.y": draw.uniform((6,), dtype)}
            lr = 0.05 + 0.15 * draw.integer(0, 10) / 10
        else:
            params = [draw.uniform((3,), dtype), draw.uniform((2,), dtype), draw.uniform((), dtype)]
            weights = {"f.t": draw.uniform((3,), dtype)}
            lr = 0.05 + 0.1 * draw.integer(0, 10) / 10
        tensors = {f"p{i}": p for i, p in enumerate(params)}
        tensors.update(weights)
        for i, p in enumerate(params):
            if index == 0 or draw.coin(0.6):  # the first case always has stale grads
                tensors[f"p{i}.grad"] = draw.uniform(p.shape, dtype, -1, 1)
        meta = {
            "f": kind,
            "n_p": len(params),
            "lr": lr,
            "steps": draw.integer(2, 8),
            "requires_grad": list(
                tensors.keys() - weights.keys() - {k for k in tensors if k.endswith(".grad")}
            ),
        }
        cases.append(Case(tensors, meta))
    cases.append(grad_mode_off(draw.choice(cases)))
    return cases


def probe(fn, case: Case, rec: Recorder) -> None:
    params = case.inputs("p")
    out = rec.call(fn, case.fn(), list(params), float(case.meta["lr"]), int(case.meta["steps"]))
    rec.value("out", out)
    items = list(out)[:MAX_ITEMS] if type(out) in (list, tuple) else []
    rec.fact("same_objects", [i < len(items) and items[i] is p for i, p in enumerate(params)])
    for i, p in enumerate(params):
        rec.tensor(f"p{i}", p)


def simulate(case: Case, variant: str = "sgd", steps: int | None = None) -> list[torch.Tensor]:
    """The params after descent: ``sgd`` is torch.optim.SGD, the reference; the
    other variants replay classic mistakes so feedback can name them."""
    ps = [p.detach().clone().requires_grad_(True) for p in case.inputs("p")]
    f, lr = case.fn(), float(case.meta["lr"])
    steps = int(case.meta["steps"]) if steps is None else steps
    for i, p in enumerate(ps):
        stale = case.tensors.get(f"p{i}.grad")
        p.grad = None if stale is None else stale.detach().clone()
    if variant == "sgd":  # PyTorch's own SGD update (the functional form of torch.optim.SGD,
        # which avoids the optimizer class's one-off import of torch._dynamo)
        for _ in range(steps):
            for p in ps:
                p.grad = None
            f(*ps).mean().backward()
            with torch.no_grad():
                sgd(
                    ps,
                    [p.grad for p in ps],
                    [None] * len(ps),
                    foreach=False,
                    weight_decay=0.0,
                    momentum=0.0,
                    lr=lr,
                    dampening=0.0,
                    nesterov=False,
                    maximize=False,
                )
        return [p.detach() for p in ps]
    for step in range(steps):
        if variant != "not_zeroed" and not (variant == "stale_kept" and step == 0):
            for p in ps:
                p.grad = None
        loss = f(*ps)
        (loss.sum() if variant == "sum" else loss.mean()).backward()
        with torch.no_grad():
            for i, p in enumerate(ps):
                source = ps[i - 1] if variant == "cross" and i > 0 else p
                sign = -1.0 if variant == "ascent" else 1.0
                p.copy_(source - sign * lr * p.grad)
    return [p.detach() for p in ps]


def _predictions(case: Case, i: int) -> list[diagnose.Prediction]:
    steps = int(case.meta["steps"])
    ps = case.inputs("p")
    found: list[diagnose.Prediction] = []
    if len({tuple(p.shape) for p in ps}) == 1:
        found.append(("diag.cross_update", simulate(case, "cross")[i]))
    found += [
        ("diag.not_zeroed", simulate(case, "not_zeroed")[i]),
        ("diag.ascent", simulate(case, "ascent")[i]),
        ("diag.sum_loss", simulate(case, "sum")[i]),
        ("diag.steps_off_by_one", simulate(case, steps=steps + 1)[i]),
        ("diag.steps_off_by_one", simulate(case, steps=steps - 1)[i]),
        ("diag.no_update", ps[i]),
    ]
    if any(f"p{k}.grad" in case.tensors for k in range(len(ps))):
        found.insert(1, ("diag.stale_kept", simulate(case, "stale_kept")[i]))
    return found


def _length(case: Case, facts: dict) -> int:
    n = int(case.meta["n_p"])
    out = facts.get("out", {})
    if out.get("kind") not in ("list", "tuple"):
        raise CheckFailed(
            message("type.not_sequence", what="gradient_descent", n=n, type=expect.type_name(out))
        )
    if int(out.get("len", 0)) != n:
        raise CheckFailed(message("type.length", what="gradient_descent", n=n, got=out.get("len")))
    return n


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _length(case, obs.facts)
        want = simulate(case)
        ps = case.inputs("p")
        for i in range(n):
            expect.values(
                expect.returned(obs, f"out.{i}", f"parameter {i + 1} of {n}"),
                want[i],
                where=show.case(case, inputs=tuple(f"p{k}" for k in range(n)))
                + f", lr={case.meta['lr']:g}, steps={case.meta['steps']}"
                + f" ({show.input_name(case.meta['f'], i)} after the steps)",
                dtype=ps[i].dtype,
                predictions=lambda i=i, case=case: _predictions(case, i),
                loose=LOOSE,
            )


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = _length(case, obs.facts)
        for i, p in enumerate(case.inputs("p")[:n]):
            facts = dict(obs.facts[f"out.{i}"])
            facts["requires_grad"] = facts["grad_fn"] = False  # params do require grad
            expect.tensor_like(facts, p, what=f"parameter {i + 1}", device=case.device)
    expect.device_agnostic(run, ["out.0", "out.1"], "gradient_descent")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    uses_optim = _uses_optim(run.source or "")
    for case, obs in run.each():
        if not all(obs.facts.get("same_objects", [])):
            raise CheckFailed(message("side.params_replaced"))
        for i in range(int(case.meta["n_p"])):
            facts = obs.facts.get(f"p{i}", {})
            if not (facts.get("is_leaf") and facts.get("requires_grad")):
                raise CheckFailed(message("side.param_not_leaf", i=i + 1))
    expect.grad_mode_kept(run)
    if uses_optim:
        raise CheckFailed(message("side.uses_optim"))


def _uses_optim(source: str) -> bool:
    """Whether the learner's code mentions torch.optim (the exercise is to do it by hand)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "optim":
            return True
        if isinstance(node, ast.ImportFrom) and node.module and "optim" in node.module.split("."):
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "optim" for a in node.names):
            return True
        if isinstance(node, ast.Import) and any("optim" in a.name.split(".") for a in node.names):
            return True
    return False
