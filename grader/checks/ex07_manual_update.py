"""Hidden checks for exercise 7: ``gradient_descent(f, params, lr, steps)``.

Kinds every run covers: steps = 1 and steps > 1; params holding stale ``.grad``
and none; params of the same shape (where the seed's w2-from-w1 bug shows), of
different shapes, one broadcasting against another (a 0-d bias), and one that f
does not use (its grad stays None, so it must not move); a loss shaped like none
of the params; contiguous, stepped, transposed and offset params (never
expanded: they are updated in place); 0-d, size-1 and larger params; float32
and float64; f closing over data that requires grad; a call with gradient
recording off. The rule "no torch.optim" is checked by behaviour
(``grader.runner.optimwatch``), whatever path the code takes to it.
"""

from __future__ import annotations

import torch
from torch.optim.sgd import sgd

from grader.cases import Case
from grader.checks import diagnose, expect, show
from grader.checks.draw import F32, F64, Draw, grad_mode_off
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.observe import MAX_ITEMS, Recorder

LOOSE = 10.0  # several steps of float32 arithmetic: 10x float32's usual tolerance


def draw_cases(draw: Draw) -> list[Case]:
    same = draw.shape("large")
    small = draw.shape("size-1")
    cases = [
        _case(draw, "seed_loss", [same, same], F32, stale=(0, 1), steps=draw.integer(2, 6)),
        _case(draw, "regression", [(3,), ()], F64, [STEPPED], steps=1, data_grad=True,
              data={"x": (6, 3), "y": (6,)}),
        _case(draw, "coupled", [(3,), (2,), ()], F32, [OFFSET], stale=(0, 2),
              steps=draw.integer(2, 6), data={"t": (3,)}),
        _case(draw, "unused_param", [(3,), (2, 2), (2,)], F64, [CONTIGUOUS, TRANSPOSED],
              stale=(0, 2), steps=draw.integer(2, 6), data={"t": (3,)}),
        _case(draw, "seed_loss", [small, small], F64, steps=1),
        _case(draw, "seed_loss", [(), ()], F32, stale=(1,), steps=draw.integer(2, 6)),
    ]  # fmt: skip
    return [*cases, grad_mode_off(cases[0])]


def _case(
    draw: Draw,
    kind: str,
    shapes: list[tuple[int, ...]],
    dtype: torch.dtype,
    layouts: list[str] = (),  # type: ignore[assignment]
    *,
    steps: int,
    stale: tuple[int, ...] = (),
    data: dict[str, tuple[int, ...]] | None = None,
    data_grad: bool = False,
) -> Case:
    """Params ``p0, p1, ...`` of ``shapes`` for the loss ``kind``; ``stale`` lists the
    params holding a .grad from earlier work; ``data`` the tensors f closes over."""
    tensors: dict[str, torch.Tensor] = {}
    laid: dict[str, str] = {}
    for i, shape in enumerate(shapes):
        layout = layouts[i] if i < len(layouts) else CONTIGUOUS
        tensors[f"p{i}"], how = draw.laid_out(shape, dtype, layout, lo=-1.5)
        if how != CONTIGUOUS:
            laid[f"p{i}"] = how
        if i in stale:
            tensors[f"p{i}.grad"] = draw.uniform(shape, dtype, -1.0, 1.0)
    weights = {f"f.{name}": draw.uniform(size, dtype, -1, 1) for name, size in (data or {}).items()}
    tensors.update(weights)
    if kind == "seed_loss":
        lr = 0.05 + 0.4 * draw.integer(0, 10) / 10
    else:
        lr = 0.05 + 0.1 * draw.integer(0, 10) / 10
    params = [f"p{i}" for i in range(len(shapes))]
    meta = {
        "f": kind,
        "n_p": len(shapes),
        "lr": lr,
        "steps": steps,
        "requires_grad": params + (list(weights) if data_grad else []),
        "layout": laid,
    }
    return Case(tensors, meta)


def probe(fn, case: Case, rec: Recorder) -> None:
    params = case.inputs("p")
    f = rec.watch(case.fn())
    out = rec.call(fn, f, list(params), float(case.meta["lr"]), int(case.meta["steps"]))
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
        # which avoids the optimizer class's one-off import of torch._dynamo); like
        # SGD, it skips a param whose grad is None (one the loss does not use)
        for _ in range(steps):
            for p in ps:
                p.grad = None
            f(*ps).mean().backward()
            moved = [p for p in ps if p.grad is not None]
            with torch.no_grad():
                sgd(
                    moved,
                    [p.grad for p in moved],
                    [None] * len(moved),
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
                if p.grad is None:
                    continue
                source = ps[i - 1] if variant == "cross" and i > 0 else p
                sign = -1.0 if variant == "ascent" else 1.0
                p.copy_(source - sign * lr * p.grad)
    return [p.detach() for p in ps]


@per_case
def reference(case: Case) -> list[torch.Tensor]:
    """The params after PyTorch's own SGD."""
    return simulate(case)


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


@weight(6)
@expect.source_first(lambda run: _from_autograd(run))
def test_values(run: ExerciseRun) -> None:
    expect.no_optimizer(run)
    try:
        _values(run)
    except CheckFailed as failed:
        if "NoneType" in failed.feedback.render():  # p.grad of the unused param
            raise CheckFailed(failed.feedback.plus(message("diag.unused_param"))) from None
        raise


def _values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, int(case.meta["n_p"]), what="gradient_descent")
        want = reference(case)
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
                loose=LOOSE if ps[i].dtype == torch.float32 else 1.0,  # float64's stays tight
            )
    _from_autograd(run)


def _from_autograd(run: ExerciseRun) -> None:
    expect.autograd_used(run, need=lambda case: int(case.meta["steps"]))


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        n = expect.sequence(obs.facts, int(case.meta["n_p"]), what="gradient_descent")
        for i, p in enumerate(case.inputs("p")[:n]):
            facts = dict(obs.facts[f"out.{i}"])
            facts["requires_grad"] = facts["grad_fn"] = False  # params do require grad
            expect.tensor_like(facts, p, what=f"parameter {i + 1}", device=case.device)
    expect.device_agnostic(run, ["out.0", "out.1"], "gradient_descent")


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        if not all(obs.facts.get("same_objects", [])):
            raise CheckFailed(message("side.params_replaced"))
        for i in range(int(case.meta["n_p"])):
            facts = obs.facts.get(f"p{i}", {})
            if not (facts.get("is_leaf") and facts.get("requires_grad")):
                raise CheckFailed(message("side.param_not_leaf", i=i + 1))
    expect.grad_mode_kept(run)
