"""Every run covers every kind of input that can tell a right answer from a wrong one.

Randomness only picks values inside a kind; it never decides whether a kind is
there. These tests read the kinds off the cases themselves (the strides of the
tensors the learner receives, the shape f really returns, which gradients are
None), not off the plans that built them, and demand the full set on every seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from grader import layout, registry
from grader.cases import Case
from grader.grading import draw_cases

SEEDS = range(300, 320)  # 20 seeds

SIZES = {"0-d", "size-1", "large"}
DTYPES = {"float32", "float64"}
OUTPUTS = {"same", "scalar", "rowwise", "larger", "matmul"}
ALL_LAYOUTS = {"contiguous", "transposed", "stepped", "offset", "expanded"}
# where forward mode (jacfwd, forward_ad) is a natural style: it cannot take an expanded x
FORWARD_LAYOUTS = ALL_LAYOUTS - {"expanded"}

# The kinds each exercise must show in every run, as "dimension:value".
REQUIRED: dict[str, set[str]] = {
    "scalar_grad": {"size:0-d", "layout:contiguous", "layout:offset", "weights:grad",
                    "weights:plain", "grad_mode:off", "fn:seed_poly"},
    "vector_grad": {*(f"output:{o}" for o in OUTPUTS), *(f"size:{s}" for s in SIZES),
                    *(f"layout:{lay}" for lay in FORWARD_LAYOUTS), "weights:grad", "weights:plain",
                    "grad_mode:off", "fn:seed_poly"},
    "partial_grads": {"inputs:unused", "inputs:broadcast", "inputs:different_shapes",
                      "inputs:same_shapes", "inputs:three", "output:like_none",
                      "layout:contiguous", "layout:transposed", "layout:stepped",
                      "layout:offset", "size:0-d", "weights:grad",
                      "grad_mode:off"},
    "evaluate_without_grad": {*(f"output:{o}" for o in OUTPUTS), *(f"size:{s}" for s in SIZES),
                              *(f"layout:{lay}" for lay in ALL_LAYOUTS), "weights:grad",
                              "weights:none", "grad_mode:on", "grad_mode:off", "stale:yes",
                              "stale:no"},
    "accumulated_grad": {*(f"output:{o}" for o in OUTPUTS), *(f"size:{s}" for s in SIZES),
                         *(f"layout:{lay}" for lay in ALL_LAYOUTS - {"expanded"}), "weights:grad",
                         "weights:plain", "grad_mode:off", "stale:yes", "stale:no",
                         "times:1", "times:many"},
    "fresh_grads": {*(f"output:{o}" for o in OUTPUTS), *(f"size:{s}" for s in SIZES),
                    *(f"layout:{lay}" for lay in FORWARD_LAYOUTS), "weights:grad", "weights:plain",
                    "grad_mode:off", "stale:yes", "stale:no", "fs:one", "fs:many",
                    "fs:same_twice"},
    "gradient_descent": {"steps:1", "steps:many", "stale:yes", "stale:no", "inputs:unused",
                         "inputs:same_shapes", "inputs:different_shapes", "inputs:broadcast",
                         "output:like_none", "layout:contiguous", "layout:stepped",
                         "layout:transposed", "layout:offset", "size:0-d", "size:size-1",
                         "size:large", "weights:grad", "grad_mode:off"},
    "detach_alias": {"layout:contiguous", "layout:transposed", "layout:stepped",
                     "layout:offset", *(f"size:{s}" for s in SIZES), "grad_mode:on",
                     "grad_mode:off", "stale:yes", "stale:no"},
    # unit 2: exercises 9-12
    "shared_trunk_grads": {"heads:two", "heads:many", "heads:different_shapes",
                           *(f"trunk:{o}" for o in OUTPUTS), *(f"head:{o}" for o in OUTPUTS),
                           *(f"size:{s}" for s in SIZES), *(f"layout:{lay}" for lay in ALL_LAYOUTS),
                           "weights:grad", "weights:plain", "grad_mode:off"},
    "hvp": {"output:scalar", "hessian:non_diagonal", *(f"size:{s}" for s in SIZES),
            *(f"layout:{lay}" for lay in ALL_LAYOUTS - {"expanded"}),
            *(f"v_layout:{lay}" for lay in ALL_LAYOUTS), "weights:grad", "weights:plain",
            "grad_mode:off"},
    "intermediate_grads": {*(f"output:{o}" for o in OUTPUTS), *(f"g_output:{o}" for o in OUTPUTS),
                           *(f"size:{s}" for s in SIZES), *(f"layout:{lay}" for lay in ALL_LAYOUTS),
                           "stale:yes", "stale:no", "weights:grad", "weights:plain",
                           "grad_mode:off"},
    "clipped_grad": {*(f"output:{o}" for o in OUTPUTS - {"scalar"}), *(f"size:{s}" for s in SIZES),
                     *(f"layout:{lay}" for lay in ALL_LAYOUTS), "jacobian:mixes",
                     "weights:grad", "weights:plain", "grad_mode:off"},
    # unit 2: exercises 13-16
    "round_ste": {*(f"size:{s}" for s in SIZES), *(f"layout:{lay}" for lay in ALL_LAYOUTS),
                  "requires_grad:yes", "requires_grad:no", "grad_mode:on", "grad_mode:off",
                  "no_grad:x_requires_grad", "stale:yes", "stale:no", "w:full", "w:row",
                  "w:scalar", "values:tie_even", "values:tie_odd_positive",
                  "values:tie_odd_negative", "values:near_tie", "grad_at:far_out_both_signs"},
    "jacobian": {"jac:m<n", "jac:m>n", "jac:m==1", "jac:m==n", "jac:n==1", "jac:mixing",
                 "layout:contiguous", "layout:stepped", "layout:offset", "weights:grad",
                 "weights:plain", "x:requires_grad", "stale:yes", "stale:no", "grad_mode:off"},
    "to_numpy": {*(f"size:{s}" for s in SIZES), *(f"layout:{lay}" for lay in ALL_LAYOUTS),
                 "t:requires_grad", "t:plain", "t:computed", "grad_mode:on", "grad_mode:off",
                 "stale:yes", "stale:no", "device:cpu_unwatched"},
    "save_weights": {"params:views_of_a_larger_store", "params:own_storage", "params:mixed",
                     "params:one", "params:0-d", "params:size-1", "params:large",
                     "layout:contiguous", "layout:transposed", "layout:stepped", "layout:offset",
                     "dtypes:mixed", "requires_grad:all", "stale:yes", "stale:no",
                     "grad_mode:on", "grad_mode:off", "device:cpu_unwatched"},
}  # fmt: skip
DTYPE_KINDS = {f"dtype:{d}" for d in DTYPES}


def size_of(t: torch.Tensor) -> str:
    if t.dim() == 0:
        return "0-d"
    return "size-1" if 1 in t.shape else "large"


def output_of(x: torch.Tensor, y: torch.Tensor) -> str:
    if y.shape == x.shape:
        return "same"
    if y.dim() == 0:
        return "scalar"
    if x.dim() >= 2 and y.shape == x.shape[:-1]:
        return "rowwise"
    if y.shape[: x.dim()] == x.shape and y.numel() > x.numel():
        return "larger"
    if x.dim() >= 1 and y.shape[:-1] == x.shape[:-1] and y.shape[-1] != x.shape[-1]:
        return "matmul"
    return "other"


def kinds_of(name: str, case: Case) -> Iterator[str]:
    """The kinds one case shows, read off the tensors the learner would receive."""
    if name in UNIT_2:
        yield from UNIT_2[name](case.materialize(), case)
        return
    live = case.materialize()
    meta = case.meta
    inputs = [k for k in live.tensors if k[0] in "xp" and "." not in k]
    for key in inputs:
        yield f"layout:{layout.describe(live.tensors[key])}"
        yield f"size:{size_of(live.tensors[key])}"
        yield f"dtype:{str(live.tensors[key].dtype).removeprefix('torch.')}"
    weights = [
        k
        for k in case.tensors
        if k.startswith(("f.", "fs", "g.", "trunk.", "heads")) and not k.endswith(".grad")
    ]
    grads = set(meta.get("requires_grad", []))
    if weights:
        yield "weights:grad" if grads & set(weights) else "weights:plain"
    else:
        yield "weights:none"
    yield "grad_mode:off" if meta.get("grad_mode") is False else "grad_mode:on"
    yield "stale:yes" if any(k.endswith(".grad") for k in case.tensors) else "stale:no"
    if meta.get("f") == "seed_poly":
        yield "fn:seed_poly"
    if "times" in meta:
        yield "times:1" if meta["times"] == 1 else "times:many"
    if "steps" in meta:
        yield "steps:1" if meta["steps"] == 1 else "steps:many"
    if "fs" in meta:
        fns = case.fns()
        yield "fs:one" if len(fns) == 1 else "fs:many"
        if len({id(f) for f in fns}) < len(fns):
            yield "fs:same_twice"
        x = case.tensors["x"]
        for f in fns:
            yield f"output:{output_of(x, f(x))}"
        return
    if "n_x" in meta or "n_p" in meta:
        yield from _several_inputs(case, "x" if "n_x" in meta else "p")
        return
    if "heads" in meta:
        yield from _trunk_and_heads(case)
        return
    x = case.tensors["x"]
    if "f" in meta:
        yield f"output:{output_of(x, case.fn()(x))}"
    if "v" in case.tensors:
        yield f"v_layout:{layout.describe(live.tensors['v'])}"
        if _hessian(case).count_nonzero() > _hessian(case).diagonal().count_nonzero():
            yield "hessian:non_diagonal"
    if "g" in meta:
        y = case.fn("f")(x)
        yield f"g_output:{output_of(y, case.fn('g')(y))}"
        if _jacobian(case).count_nonzero() > min(x.numel(), y.numel()):
            yield "jacobian:mixes"  # more than one element of y depends on an element of x


# -- unit 2: exercises 9-12 -------------------------------------------------------


def _trunk_and_heads(case: Case) -> Iterator[str]:
    x = case.tensors["x"]
    z = case.fn("trunk")(x)
    heads = case.fns("heads")
    yield "heads:two" if len(heads) == 2 else "heads:many"
    yield f"trunk:{output_of(x, z)}"
    outs = [h(z) for h in heads]
    if len({tuple(o.shape) for o in outs}) > 1:
        yield "heads:different_shapes"
    for o in outs:
        yield f"head:{output_of(z, o)}"


def _hessian(case: Case, at: torch.Tensor | None = None) -> torch.Tensor:
    x = case.tensors["x"] if at is None else at
    n = x.numel()
    return torch.autograd.functional.hessian(case.fn(), x.double()).reshape(n, n)


def _jacobian(case: Case) -> torch.Tensor:
    x = case.tensors["x"]
    return torch.autograd.functional.jacobian(case.fn("f"), x).reshape(-1, x.numel())


def _frees_saved_tensors(case: Case) -> bool:
    """A second backward through the trunk without retain_graph raises."""
    leaf = case.tensors["x"].detach().clone().requires_grad_(True)
    z = case.fn("trunk")(leaf)
    z.sum().backward()
    try:
        z.sum().backward()
    except RuntimeError:
        return True
    return False


def _clamp_sides(case: Case) -> set[str]:
    """Where the gradient at y sits against [-c, c], and whether any is near ±c."""
    x = case.tensors["x"]
    y = case.fn("f")(x).detach().requires_grad_(True)
    (gy,) = torch.autograd.grad(case.fn("g")(y).sum(), y)
    c = float(case.meta["c"])
    found = set()
    if (gy > c).any():
        found.add("above")
    if (gy < -c).any():
        found.add("below")
    if (gy.abs() < c).any():
        found.add("inside")
    if ((gy.abs() - c).abs() < 0.01 * c).any():
        found.add("near")
    return found


# unit 2: exercises 13-16, each read off what its probe hands the learner
def _common(live: Case) -> Iterator[str]:
    yield "grad_mode:off" if live.meta.get("grad_mode") is False else "grad_mode:on"
    yield "stale:yes" if any(t.grad is not None for t in live.tensors.values()) else "stale:no"
    if live.meta.get("device") == "cpu" and live.meta.get("watch_device") is False:
        yield "device:cpu_unwatched"  # pinned to the CPU even where the rest is watched


def _tensor_kinds(t: torch.Tensor) -> Iterator[str]:
    yield f"layout:{layout.describe(t)}"
    yield f"size:{size_of(t)}"
    yield f"dtype:{str(t.dtype).removeprefix('torch.')}"


def _round_ste(live: Case, case: Case) -> Iterator[str]:
    x = live.tensors["x"]
    yield from _common(live)
    yield from _tensor_kinds(x)
    yield "requires_grad:yes" if x.requires_grad else "requires_grad:no"
    if x.requires_grad and live.meta.get("grad_mode") is False:
        yield "no_grad:x_requires_grad"
    values = x.detach().double().reshape(-1)
    ties = values[values == torch.floor(values) + 0.5]
    if bool((torch.floor(ties) % 2 == 0).logical_and(ties > 0).any()):
        yield "values:tie_even"
    if bool((torch.floor(ties) % 2 != 0).logical_and(ties > 0).any()):
        yield "values:tie_odd_positive"
    if bool((torch.floor(ties) % 2 != 0).logical_and(ties < 0).any()):
        yield "values:tie_odd_negative"
    near = (values - torch.floor(values) - 0.5).abs()
    if bool(((near > 0) & (near < 0.01)).any()):
        yield "values:near_tie"
    if "w" in live.tensors:  # the cases whose gradient is checked
        w = live.tensors["w"]
        yield "w:scalar" if w.dim() == 0 else "w:full" if w.shape == x.shape else "w:row"
        if bool((values > 1e6).any()) and bool((values < -1e6).any()):
            yield "grad_at:far_out_both_signs"


def _jacobian_kinds(live: Case, case: Case) -> Iterator[str]:
    x = live.tensors["x"]
    yield from _common(live)
    yield from _tensor_kinds(x)
    jac = torch.autograd.functional.jacobian(case.fn(), case.tensors["x"])
    m, n = jac.shape
    yield "jac:m<n" if m < n else "jac:m>n" if m > n else "jac:m==n"
    if m == 1:
        yield "jac:m==1"
    if n == 1:
        yield "jac:n==1"
    elif bool(((jac != 0).sum(1) > 1).all()) and not torch.allclose(jac[:1], jac):
        yield "jac:mixing"  # no row is a multiple of a unit vector, and rows differ
    weights = [k for k in live.tensors if k.startswith("f.")]
    yield "weights:grad" if all(live.tensors[k].requires_grad for k in weights) else "weights:plain"
    if x.requires_grad:
        yield "x:requires_grad"


def _to_numpy(live: Case, case: Case) -> Iterator[str]:
    from grader.checks.ex15_numpy_bridge import input_of

    t = input_of(live)
    yield from _common(live)
    yield from _tensor_kinds(live.tensors["x"])
    yield "t:requires_grad" if t.requires_grad else "t:plain"
    if t.grad_fn is not None:
        yield "t:computed"


def _save_weights(live: Case, case: Case) -> Iterator[str]:
    from grader.checks.ex16_save_weights import build_params

    params, _store = build_params(live)
    yield from _common(live)
    own = 0
    for p in params:
        yield f"params:{size_of(p)}"
        yield f"layout:{layout.describe(p)}"
        yield f"dtype:{str(p.dtype).removeprefix('torch.')}"
        storage = p.untyped_storage().nbytes()
        if storage > 4 * p.numel() * p.element_size() + 16 * 1024 and p.storage_offset() > 0:
            yield "params:views_of_a_larger_store"
        else:
            own += 1
    if own:
        yield "params:own_storage"
    if 0 < own < len(params):
        yield "params:mixed"
    if len(params) == 1:
        yield "params:one"
    if len({p.dtype for p in params}) > 1:
        yield "dtypes:mixed"
    if all(p.is_leaf and p.requires_grad for p in params):
        yield "requires_grad:all"


UNIT_2 = {
    "round_ste": _round_ste,
    "jacobian": _jacobian_kinds,
    "to_numpy": _to_numpy,
    "save_weights": _save_weights,
}


def _several_inputs(case: Case, prefix: str) -> Iterator[str]:
    xs = [t.detach().clone().requires_grad_(True) for t in case.inputs(prefix)]
    y = case.fn()(*xs)
    grads = torch.autograd.grad(y.sum(), xs, allow_unused=True)
    if any(g is None for g in grads):
        yield "inputs:unused"
    shapes = [tuple(t.shape) for t in xs]
    yield "inputs:same_shapes" if len(set(shapes)) == 1 else "inputs:different_shapes"
    if len(set(shapes)) > 1 and _broadcasts(shapes):
        yield "inputs:broadcast"
    if len(xs) >= 3:
        yield "inputs:three"
    if tuple(y.shape) not in shapes:
        yield "output:like_none"


def _broadcasts(shapes: list[tuple[int, ...]]) -> bool:
    """One input broadcasts against the others: together they take one's shape."""
    try:
        return tuple(torch.broadcast_shapes(*shapes)) in shapes
    except RuntimeError:
        return False


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda ex: ex.name)
def test_every_run_covers_every_kind(ex: registry.Exercise) -> None:
    for seed in SEEDS:
        seen = {k for case in draw_cases(ex, seed, "cpu") for k in kinds_of(ex.name, case)}
        missing = (REQUIRED[ex.name] | DTYPE_KINDS) - seen
        assert not missing, (ex.name, seed, sorted(missing))


def test_unit2_every_case_shows_what_its_exercise_needs() -> None:
    """Per case, not per run: exercise 9's trunk frees what it saved (so forgetting
    retain_graph raises), exercise 10's Hessian is not constant, and exercise 12's
    gradient at y has elements above c, below -c and inside, none close to ±c."""
    for seed in SEEDS:
        for case in draw_cases(registry.BY_NAME["shared_trunk_grads"], seed, "cpu"):
            assert _frees_saved_tensors(case), (seed, case.meta)
        for case in draw_cases(registry.BY_NAME["hvp"], seed, "cpu"):
            x = case.tensors["x"].double()
            assert not torch.allclose(_hessian(case), _hessian(case, at=x + 0.5)), seed
        for case in draw_cases(registry.BY_NAME["clipped_grad"], seed, "cpu"):
            assert _clamp_sides(case) == {"above", "below", "inside"}, (seed, case.meta)


def test_the_kinds_are_read_off_the_tensors() -> None:
    """The classifier itself tells the layouts and output shapes apart."""
    t = torch.arange(12.0).reshape(3, 4)
    assert layout.describe(layout.arrange(t, "transposed")) == "transposed"
    assert layout.describe(layout.arrange(t, "stepped")) == "stepped"
    assert layout.describe(layout.arrange(t, "offset")) == "offset"
    assert layout.describe(layout.arrange(t[:1].expand(3, 4), "expanded:0")) == "expanded"
    assert layout.describe(layout.arrange(t, "contiguous")) == "contiguous"
    x = torch.zeros(2, 3)
    assert output_of(x, torch.zeros(2, 3)) == "same"
    assert output_of(x, torch.zeros(())) == "scalar"
    assert output_of(x, torch.zeros(2)) == "rowwise"
    assert output_of(x, torch.zeros(2, 3, 2)) == "larger"
    assert output_of(x, torch.zeros(2, 4)) == "matmul"


def test_values_survive_the_layout() -> None:
    """A laid-out input holds exactly the drawn values, as a leaf of its own."""
    for ex in registry.EXERCISES:
        for case in draw_cases(ex, 7, "cpu"):
            live = case.materialize()
            for key, how in (case.meta.get("layout") or {}).items():
                assert torch.equal(live.tensors[key], case.tensors[key]), (ex.name, key, how)
                assert live.tensors[key].is_leaf
