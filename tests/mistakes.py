"""Submissions for the mutation suite: correct alternatives and classic mistakes.

Each ``Variant`` is one exercise file a learner might write. ``fails`` names the
checks that must fail (empty: a correct solution, full marks); ``diagnosis``
is the message key the feedback of the first failing check must carry, where
the evidence names the mistake. ``grade_variants(seed)`` grades every variant
in one ``grade()`` call (one pytest session) and caches the result for the
test modules that read it.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from grader import registry
from grader.grading import Settings, grade
from grader.results import ExerciseResult
from grader.runner.execute import Limits, Sandbox
from grader.submission import Source, Submission

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"

VALUES = frozenset({"values"})
TYPE = frozenset({"type"})
SIDE = frozenset({"side_effects"})
CORRECT: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Variant:
    exercise: str  # the function name, e.g. "scalar_grad"
    name: str
    body: str  # the function's definition; ``import torch`` is added above it
    fails: frozenset[str] = CORRECT
    diagnosis: dict[str, str] = field(default_factory=dict)  # check -> message key

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.name}"

    @property
    def source(self) -> str:
        return "import torch\n\n\n" + textwrap.dedent(self.body).strip() + "\n"


def variants(exercise: str, text: str) -> list[Variant]:
    """Variants written one after another, each under a header line
    ``## name | fails: values, type | values: diag.key | type: type.key``
    (continued on lines that start with ``## |``)."""
    found = []
    for chunk in re.split(r"\n## (?!\|)", text)[1:]:
        header, _, code = chunk.partition("\n")
        while code.startswith("## |"):
            more, _, code = code.partition("\n")
            header += more.removeprefix("##")
        name, *fields = (part.strip() for part in header.split(" | "))
        fails: frozenset[str] = CORRECT
        diagnosis: dict[str, str] = {}
        for item in fields:
            key, _, value = (s.strip() for s in item.partition(":"))
            if key == "fails":
                fails = frozenset(s.strip() for s in value.split(","))
            else:
                diagnosis[key] = value
        found.append(Variant(exercise, name, code, fails, diagnosis))
    return found


SCALAR = variants(
    "scalar_grad",
    """
## autograd.grad
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf)
    return g
## torch.func.grad, detached
def scalar_grad(f, x):
    return torch.func.grad(f)(x).detach()
## torch.func.grad, tied to f's weights | fails: side_effects | side_effects: side.requires_grad
def scalar_grad(f, x):
    return torch.func.grad(f)(x)
## torch.autograd.functional.jacobian
def scalar_grad(f, x):
    return torch.autograd.functional.jacobian(f, x.detach())
## torch.func.jacfwd (forward mode), detached
def scalar_grad(f, x):
    return torch.func.jacfwd(f)(x).detach()
## tutorial style on x itself
def scalar_grad(f, x):
    x.requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad
## enable_grad, works under no_grad too
def scalar_grad(f, x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        f(leaf).backward()
    return leaf.grad
## returns f(x) | fails: values | values: diag.returned_value
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.backward()
    return y.detach()
## hard-coded seed derivative | fails: values | values: diag.hardcoded_seed
def scalar_grad(f, x):
    return 2 * x + 2
## sign flipped | fails: values | values: diag.sign
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return -leaf.grad
## backward twice | fails: values | values: diag.scaled_int
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    f(leaf).backward()
    return leaf.grad
## forward difference | fails: values, side_effects
def scalar_grad(f, x):
    h = 1e-4
    return (f(x + h) - f(x)) / h
## central differences in float64 | fails: values | values: values.not_autograd
def scalar_grad(f, x):
    h = 1e-6
    with torch.no_grad():
        x64 = x.double()
        return ((f(x64 + h) - f(x64 - h)) / (2 * h)).to(x.dtype)
## autograd on f's unwatched inner function | fails: values | values: values.not_autograd
def scalar_grad(f, x):
    inner = next(c.cell_contents for c in f.__closure__ if callable(c.cell_contents))
    return torch.func.grad(inner)(x).detach()
## derivative of x**2 only | fails: values
def scalar_grad(f, x):
    return 2 * x
## keeps the graph | fails: side_effects | side_effects: side.requires_grad
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    return g
## .item() | fails: type | type: type.number
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad.item()
## .cpu().numpy() | fails: type | type: type.numpy
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad.cpu().numpy()
## always float64 | fails: type | type: type.dtype
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad.double()
## .cpu() | fails: type | type: type.moved_to_cpu
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad.cpu()
## torch.zeros without device | fails: type | type: type.default_device
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    out = torch.zeros((), dtype=x.dtype)
    out += leaf.grad
    return out
## switches recording on for good | fails: side_effects | side_effects: side.grad_mode_left_on
def scalar_grad(f, x):
    torch.set_grad_enabled(True)
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad
## switches recording off at the end | fails: side_effects | side_effects: side.grad_mode_left_off
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    torch.set_grad_enabled(False)
    return leaf.grad
## writes the gradient into the caller's x and returns x | fails: side_effects
## | side_effects: side.input_changed
def scalar_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    x.copy_(leaf.grad)
    return x
## computed in float32, cast back | fails: values | values: diag.float32_precision
def scalar_grad(f, x):
    leaf = x.detach().float().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad.to(x.dtype)
## computed in float32 | fails: values, type | values: diag.float32_precision
## | type: type.dtype
def scalar_grad(f, x):
    leaf = x.detach().float().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad
""",
)

VECTOR = variants(
    "vector_grad",
    """
## a gradient of ones moved with .to(y.device)
def vector_grad(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    y.backward(torch.ones(y.shape, dtype=y.dtype).to(y.device))
    return leaf.grad
## torch.func.jacfwd (forward mode) of the sum, detached
def vector_grad(f, x):
    return torch.func.jacfwd(lambda t: f(t).sum())(x).detach()
## the gradient as a sparse tensor | fails: values, type | values: type.not_tensor
## | type: type.subclass
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).sum().backward()
    return leaf.grad.to_sparse()
## autograd.grad with grad_outputs
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    (g,) = torch.autograd.grad(y, leaf, grad_outputs=torch.ones_like(y))
    return g
## torch.func.grad of the sum, detached
def vector_grad(f, x):
    return torch.func.grad(lambda t: f(t).sum())(x).detach()
## torch.func.jacrev summed over the output dims, detached
def vector_grad(f, x):
    jac = torch.func.jacrev(f)(x).detach()
    out_dims = jac.dim() - x.dim()
    return jac.sum(dim=tuple(range(out_dims))) if out_dims else jac
## torch.autograd.functional.vjp
def vector_grad(f, x):
    y = f(x)
    return torch.autograd.functional.vjp(f, x.detach(), torch.ones_like(y))[1]
## backward(gradient=ones)
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.backward(gradient=torch.ones_like(y))
    return leaf.grad
## torch.func.vjp, detached
def vector_grad(f, x):
    y, pull = torch.func.vjp(f, x)
    (g,) = pull(torch.ones_like(y))
    return g.detach()
## backward(ones with y's shape, dtype and device)
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.backward(torch.ones(y.shape, dtype=y.dtype, device=y.device))
    return leaf.grad
## backward(ones) without device=: a CPU gradient for a GPU output
## | fails: values, type, side_effects | values: raised.exception
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.backward(torch.ones(y.shape, dtype=y.dtype))
    return leaf.grad
## backward(torch.ones_like(x)): right only when f(x) has x's shape
## | fails: values, type, side_effects
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward(torch.ones_like(x))
    return leaf.grad
## backward() on f(x) itself | fails: values, type, side_effects
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).backward()
    return leaf.grad
## jacobian summed over dim 0 only | fails: values, type
def vector_grad(f, x):
    return torch.autograd.functional.jacobian(f, x.detach()).sum(0)
## .view(-1) on x | fails: values, type, side_effects
def vector_grad(f, x):
    leaf = x.detach().view(-1).requires_grad_()
    f(leaf.view(x.shape)).sum().backward()
    return leaf.grad.view(x.shape)
## central differences | fails: values
def vector_grad(f, x):
    h = 1e-6 if x.dtype == torch.float64 else 1e-3
    with torch.no_grad():
        flat = torch.zeros(x.numel(), dtype=x.dtype, device=x.device)
        for i in range(x.numel()):
            step = torch.zeros_like(x).reshape(-1)
            step[i] = h
            step = step.reshape(x.shape)
            flat[i] = (f(x + step).sum() - f(x - step).sum()) / (2 * h)
        return flat.reshape(x.shape)
## mean instead of sum | fails: values | values: diag.mean_instead_of_sum
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).mean().backward()
    return leaf.grad
## hard-coded seed derivative | fails: values | values: diag.hardcoded_seed
def vector_grad(f, x):
    return 2 * x + 2
## backward twice | fails: values | values: diag.scaled_int
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    y = f(leaf).sum()
    y.backward(retain_graph=True)
    y.backward()
    return leaf.grad
## sign flipped | fails: values | values: diag.sign
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).sum().backward()
    return -leaf.grad
## first output only | fails: values
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).reshape(-1)[0].backward()
    return leaf.grad
## forward differences | fails: values, side_effects
def vector_grad(f, x):
    h = 1e-4
    base = f(x).sum()
    flat = []
    for i in range(x.numel()):
        step = torch.zeros_like(x).reshape(-1)
        step[i] = h
        flat.append((f(x + step.reshape(x.shape)).sum() - base) / h)
    return torch.stack(flat).reshape(x.shape)
## .tolist() | fails: type | type: type.list
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).sum().backward()
    return leaf.grad.tolist()
## zeros of the default dtype: float32 values | fails: values, type | values: diag.float32_precision
## | type: type.dtype
def vector_grad(f, x):
    leaf = x.detach().requires_grad_()
    f(leaf).sum().backward()
    out = torch.zeros(x.shape, device=x.device)
    out += leaf.grad
    return out
## the gradient put into x.data, x returned | fails: side_effects | side_effects: side.input_changed
def vector_grad(f, x):
    x.requires_grad_()
    f(x).sum().backward()
    g = x.grad
    x.grad = None
    x.requires_grad_(False)
    x.data = g
    return x
## computed in float32, cast back | fails: values | values: diag.float32_precision
def vector_grad(f, x):
    leaf = x.detach().float().requires_grad_(True)
    f(leaf).sum().backward()
    return leaf.grad.to(x.dtype)
## computed in float32 | fails: values, type | values: diag.float32_precision
## | type: type.dtype
def vector_grad(f, x):
    leaf = x.detach().float().requires_grad_(True)
    f(leaf).sum().backward()
    return leaf.grad
""",
)

PARTIAL = variants(
    "partial_grads",
    """
## zeros made on the default device, then .to(x)
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(torch.zeros(x.shape).to(x) if g is None else g for x, g in zip(xs, grads))
## torch.func.jacfwd (forward mode) over all inputs, detached
def partial_grads(f, *xs):
    argnums = tuple(range(len(xs)))
    grads = torch.func.jacfwd(lambda *t: f(*t).sum(), argnums=argnums)(*xs)
    return tuple(g.detach() for g in grads)
## backward, zeros for unused
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    f(*leaves).sum().backward()
    return tuple(
        torch.zeros_like(t) if t.grad is None else t.grad for t in leaves
    )
## torch.func.grad over all inputs, detached
def partial_grads(f, *xs):
    argnums = tuple(range(len(xs)))
    grads = torch.func.grad(lambda *a: f(*a).sum(), argnums=argnums)(*xs)
    return tuple(g.detach() for g in grads)
## torch.func.grad, tied to f's weights | fails: side_effects | side_effects: side.requires_grad
def partial_grads(f, *xs):
    argnums = tuple(range(len(xs)))
    return torch.func.grad(lambda *a: f(*a).sum(), argnums=argnums)(*xs)
## without allow_unused | fails: values, type, side_effects
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    return torch.autograd.grad(f(*leaves).sum(), leaves)
## grad_outputs shaped like the first input | fails: values, type, side_effects
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    y = f(*leaves)
    grads = torch.autograd.grad(y, leaves, torch.ones_like(xs[0]), allow_unused=True)
    return tuple(torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads))
## materialize_grads
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    return torch.autograd.grad(
        f(*leaves).sum(), leaves, allow_unused=True, materialize_grads=True
    )
## one input at a time, as a list
def partial_grads(f, *xs):
    out = []
    for i in range(len(xs)):
        args = [x.detach() for x in xs]
        args[i].requires_grad_()
        y = f(*args).sum()
        if y.requires_grad:
            out.append(torch.autograd.grad(y, args[i])[0])
        else:
            out.append(torch.zeros_like(xs[i]))
    return out
## backward once per input | fails: values | values: diag.scaled_int
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    for _ in leaves:
        f(*leaves).sum().backward()
    return tuple(
        torch.zeros_like(t) if t.grad is None else t.grad for t in leaves
    )
## mean instead of sum | fails: values | values: diag.mean_instead_of_sum
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(f(*leaves).mean(), leaves, allow_unused=True)
    return tuple(
        torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads)
    )
## hard-coded seed derivatives | fails: values | values: diag.hardcoded_seed_pair
def partial_grads(f, *xs):
    return tuple([2 * xs[0] + 2] + [2 * x for x in xs[1:]])
## sign flipped | fails: values | values: diag.sign
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(
        torch.zeros_like(t) if g is None else -g for t, g in zip(leaves, grads)
    )
## first input only | fails: values
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    (g,) = torch.autograd.grad(f(*leaves).sum(), leaves[0])
    return (g, *[torch.zeros_like(x) for x in xs[1:]])
## ones for an unused input | fails: values
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(
        torch.ones_like(t) if g is None else g for t, g in zip(leaves, grads)
    )
## torch.zeros(x.shape) for an unused input | fails: type | type: type.default_device
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
    return tuple(
        torch.zeros(t.shape, dtype=t.dtype) if g is None else g for t, g in zip(leaves, grads)
    )
## None for an unused input | fails: type, values | values: type.none | type: type.none
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    return torch.autograd.grad(f(*leaves).sum(), leaves, allow_unused=True)
## the inputs zeroed through .data afterwards | fails: side_effects
## | side_effects: side.input_changed
def partial_grads(f, *xs):
    leaves = [x.detach().requires_grad_() for x in xs]
    grads = torch.autograd.grad(
        f(*leaves).sum(), leaves, allow_unused=True, materialize_grads=True
    )
    for x in xs:
        try:
            x.data.mul_(0)
        except RuntimeError:  # an expanded input cannot be written in place
            pass
    return grads
""",
)

NO_GRAD = variants(
    "evaluate_without_grad",
    """
## decorator
@torch.no_grad()
def evaluate_without_grad(f, x):
    return f(x)
## inference_mode
def evaluate_without_grad(f, x):
    with torch.inference_mode():
        return f(x)
## set_grad_enabled(False) as a context
def evaluate_without_grad(f, x):
    with torch.set_grad_enabled(False):
        return f(x)
## save and restore the mode
def evaluate_without_grad(f, x):
    before = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        return f(x)
    finally:
        torch.set_grad_enabled(before)
## decorator applied inline
def evaluate_without_grad(f, x):
    return torch.no_grad()(f)(x)
## copies x under no_grad, calls f outside | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    with torch.no_grad():
        x0 = x * 1
    return f(x0)
## detach afterwards | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    return f(x).detach()
## detaches x only | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    return f(x.detach()).detach()
## .data afterwards | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    return f(x).data
## no_grad() without with | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    torch.no_grad()
    return f(x).detach()
## computed after the block | fails: values | values: side.graph_recorded
def evaluate_without_grad(f, x):
    with torch.no_grad():
        y = x
    return f(y).detach()
## grad mode switched off for good | fails: side_effects | side_effects: side.grad_mode_left_off
def evaluate_without_grad(f, x):
    torch.set_grad_enabled(False)
    return f(x)
## x.requires_grad_(False) | fails: side_effects, values
## | side_effects: side.input_requires_grad_changed
def evaluate_without_grad(f, x):
    x.requires_grad_(False)
    return f(x)
## x zeroed under no_grad after f(x) | fails: side_effects | side_effects: side.input_changed
def evaluate_without_grad(f, x):
    with torch.no_grad():
        y = f(x)
        try:
            x.mul_(0.0)
        except RuntimeError:  # an expanded x cannot be written in place
            pass
    return y
## computed in float32, cast back | fails: values | values: diag.float32_precision
def evaluate_without_grad(f, x):
    with torch.no_grad():
        return f(x.float()).to(x.dtype)
## computed in float32 | fails: values, type | values: diag.float32_precision
## | type: type.dtype
def evaluate_without_grad(f, x):
    with torch.no_grad():
        return f(x.float())
""",
)

ACCUMULATE = variants(
    "accumulated_grad",
    """
## one graph, retain_graph
def accumulated_grad(f, x, times):
    y = f(x).sum()
    for _ in range(times):
        y.backward(retain_graph=True)
    return x.grad
## autograd.grad, then added to .grad
def accumulated_grad(f, x, times):
    (g,) = torch.autograd.grad(f(x).sum(), x)
    if x.grad is None:
        x.grad = times * g
    else:
        x.grad += times * g
    return x.grad
## torch.func, returns a copy
def accumulated_grad(f, x, times):
    g = torch.func.grad(lambda t: f(t).sum())(x.detach())
    with torch.no_grad():
        total = times * g if x.grad is None else x.grad + times * g
    x.grad = total
    return x.grad.clone()
## cleared each time | fails: values | values: diag.cleared_each_time
def accumulated_grad(f, x, times):
    for _ in range(times):
        x.grad = None
        f(x).sum().backward()
    return x.grad
## stale grad cleared first | fails: values | values: diag.stale_ignored
def accumulated_grad(f, x, times):
    x.grad = None
    for _ in range(times):
        f(x).sum().backward()
    return x.grad
## one time too many | fails: values | values: diag.times_off_by_one
def accumulated_grad(f, x, times):
    for _ in range(times + 1):
        f(x).sum().backward()
    return x.grad
## one time too few (times is 2 in the first case) | fails: values | values: diag.backward_once
def accumulated_grad(f, x, times):
    for _ in range(1, times):
        f(x).sum().backward()
    if x.grad is None:
        x.grad = torch.zeros_like(x)
    return x.grad
## mean instead of sum | fails: values | values: diag.mean_loss
def accumulated_grad(f, x, times):
    for _ in range(times):
        f(x).mean().backward()
    return x.grad
## backward once, then multiplied | fails: values | values: diag.multiplied_stale
def accumulated_grad(f, x, times):
    f(x).sum().backward()
    with torch.no_grad():
        x.grad *= times
    return x.grad
## x.grad left alone | fails: side_effects | side_effects: side.grad_not_accumulated
def accumulated_grad(f, x, times):
    (g,) = torch.autograd.grad(f(x).sum(), x)
    old = torch.zeros_like(x) if x.grad is None else x.grad
    return old + times * g
## grad with a graph | fails: side_effects | side_effects: side.requires_grad
def accumulated_grad(f, x, times):
    for _ in range(times):
        f(x).sum().backward(create_graph=True)
    return x.grad
""",
)

ZERO = variants(
    "fresh_grads",
    """
## x.grad = None, copies
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        out.append(x.grad.clone())
    return out
## autograd.grad, .grad untouched
def fresh_grads(fs, x):
    return [torch.autograd.grad(f(x).sum(), x)[0] for f in fs]
## torch.func.grad, a tuple, detached
def fresh_grads(fs, x):
    return tuple(torch.func.grad(lambda t, f=f: f(t).sum())(x.detach()).detach() for f in fs)
## one gradient per distinct function, in a dict | fails: values, type
def fresh_grads(fs, x):
    grads = {}
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        grads[f] = x.grad.clone()
    return list(grads.values())
## zero_ in place, detach().clone()
def fresh_grads(fs, x):
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.data.zero_()
        f(x).sum().backward()
        grads.append(x.grad.detach().clone())
    return grads
## never cleared | fails: values | values: diag.not_zeroed
def fresh_grads(fs, x):
    out = []
    for f in fs:
        f(x).sum().backward()
        out.append(x.grad.clone())
    return out
## cleared once at the start | fails: values | values: diag.zeroed_once
def fresh_grads(fs, x):
    x.grad = None
    out = []
    for f in fs:
        f(x).sum().backward()
        out.append(x.grad.clone())
    return out
## cleared after backward, not before | fails: values | values: diag.stale_kept
def fresh_grads(fs, x):
    out = []
    for f in fs:
        f(x).sum().backward()
        out.append(x.grad.clone())
        x.grad.zero_()
    return out
## mean instead of sum | fails: values
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).mean().backward()
        out.append(x.grad.clone())
    return out
## backward twice each | fails: values | values: diag.scaled_int
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        y = f(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        out.append(x.grad.clone())
    return out
## functions in reverse order | fails: values
def fresh_grads(fs, x):
    out = []
    for f in reversed(fs):
        x.grad = None
        f(x).sum().backward()
        out.append(x.grad.clone())
    return out
## the first function every time | fails: values
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        fs[0](x).sum().backward()
        out.append(x.grad.clone())
    return out
## stores x.grad itself | fails: side_effects, values | values: diag.aliasing
## | side_effects: side.aliasing
def fresh_grads(fs, x):
    out = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()
        f(x).sum().backward()
        out.append(x.grad)
    return out
## last entry is x.grad | fails: side_effects | side_effects: side.depends_on_grad
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        out.append(x.grad)
    return out
## x.grad left as an inference tensor
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        out.append(x.grad.clone())
    with torch.inference_mode():
        x.grad = torch.zeros_like(x)
    return out
## x.grad left as an expanded tensor
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        out.append(x.grad.clone())
    x.grad = torch.zeros((), dtype=x.dtype, device=x.device).expand_as(x)
    return out
## last entry is x.grad, an inference tensor | fails: side_effects
## | side_effects: side.depends_on_grad
def fresh_grads(fs, x):
    out = []
    for f in fs:
        x.grad = None
        f(x).sum().backward()
        with torch.inference_mode():
            x.grad = x.grad.clone()
        out.append(x.grad)
    return out
""",
)

DESCENT = variants(
    "gradient_descent",
    """
## p.data, zero_()
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        f(*params).mean().backward()
        for p in params:
            if p.grad is not None:
                p.data = p.data - lr * p.grad
    return params
## autograd.grad, sub_ under no_grad
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        grads = torch.autograd.grad(f(*params).mean(), params, allow_unused=True)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.sub_(lr * g)
    return params
## torch.func.grad, add_ with alpha
def gradient_descent(f, params, lr, steps):
    loss = lambda *ps: f(*ps).mean()
    argnums = tuple(range(len(params)))
    for _ in range(steps):
        grads = torch.func.grad(loss, argnums=argnums)(*[p.detach() for p in params])
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-lr)
    return params
## copy_ in a decorated helper
@torch.no_grad()
def step(params, lr):
    for p in params:
        if p.grad is not None:
            p.copy_(p - lr * p.grad)
        p.grad = None

def gradient_descent(f, params, lr, steps):
    for p in params:
        p.grad = None
    for _ in range(steps):
        f(*params).mean().backward()
        step(params, lr)
    return params
## the seed's bug: a param updated from the previous one | fails: values | values: diag.cross_update
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        for i, p in enumerate(params):
            prev = params[i - 1] if i > 0 else p
            source = prev if prev.shape == p.shape else p
            if p.grad is not None:
                p.data = source.data - lr * p.grad
    return params
## the seed's demo7 as written (w2 from w1) | fails: side_effects, type, values
## | values: diag.cross_update
def gradient_descent(f, params, lr, steps):
    w1, w2 = params[0], params[1]
    for _ in range(steps):
        y = f(*params)
        if w1.grad != None:  # noqa: E711 (as in the tutorial)
            w1.grad.zero_()
        if w2.grad != None:  # noqa: E711
            w2.grad.zero_()
        y = y.mean()
        y.backward()
        w1.data = w1.data - lr * w1.grad
        w2.data = w1.data - lr * w2.grad
    return params
## never cleared | fails: values | values: diag.not_zeroed
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return params
## uphill | fails: values | values: diag.ascent
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p += lr * p.grad
    return params
## sum instead of mean | fails: values | values: diag.sum_loss
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).sum().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return params
## one step too many | fails: values | values: diag.steps_off_by_one
def gradient_descent(f, params, lr, steps):
    for _ in range(steps + 1):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return params
## cleared after the update, not before | fails: values | values: diag.stale_kept
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
                    p.grad.zero_()
    return params
## learning rate left out | fails: values
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= p.grad
    return params
## no update at all | fails: values | values: diag.no_update
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
    return params
## new tensors instead of in place | fails: side_effects | side_effects: side.params_replaced
def gradient_descent(f, params, lr, steps):
    params = list(params)
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        params = [
            p if p.grad is None else (p - lr * p.grad).detach().requires_grad_() for p in params
        ]
    return params
## torch.optim.SGD | fails: values | values: diag.uses_optim
def gradient_descent(f, params, lr, steps):
    opt = torch.optim.SGD(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        f(*params).mean().backward()
        opt.step()
    return params
## torch.optim reached through importlib | fails: values | values: diag.uses_optim
import importlib

def gradient_descent(f, params, lr, steps):
    opt = importlib.import_module("torch." + "op" + "tim").SGD(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        f(*params).mean().backward()
        opt.step()
    return params
## torch.optim's functional sgd | fails: values | values: diag.uses_optim
def gradient_descent(f, params, lr, steps):
    kernel = getattr(__import__("torch.optim._functional").optim._functional, "sgd")
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        live = [p for p in params if p.grad is not None]
        with torch.no_grad():
            kernel(live, [p.grad for p in live], [None] * len(live), weight_decay=0.0,
                   momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False)
    return params
## crashes on a param the loss does not use | fails: values, type, side_effects
## | values: diag.unused_param
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    return params
## gradients by central differences | fails: values | values: values.not_autograd
def gradient_descent(f, params, lr, steps):
    h = 1e-6
    with torch.no_grad():
        for _ in range(steps):
            base = [p.double() for p in params]
            grads = []
            for i, p in enumerate(base):
                g = torch.zeros_like(p).reshape(-1)
                for k in range(p.numel()):
                    step = torch.zeros_like(p).reshape(-1)
                    step[k] = h
                    up = [q + step.reshape(p.shape) if j == i else q for j, q in enumerate(base)]
                    down = [q - step.reshape(p.shape) if j == i else q for j, q in enumerate(base)]
                    g[k] = (f(*up).mean() - f(*down).mean()) / (2 * h)
                grads.append(g.reshape(p.shape))
            for p, g in zip(params, grads):
                p -= lr * g.to(p.dtype)
    return params
## switches recording on for good | fails: side_effects | side_effects: side.grad_mode_left_on
def gradient_descent(f, params, lr, steps):
    for _ in range(steps):
        torch.set_grad_enabled(True)
        for p in params:
            p.grad = None
        f(*params).mean().backward()
        torch.set_grad_enabled(False)
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
        torch.set_grad_enabled(True)
    return params
""",
)

DETACH = variants(
    "detach_alias",
    """
## detach, then .to(x.device) (the same tensor: still an alias)
def detach_alias(x):
    return x.detach().to(x.device)
## .data
def detach_alias(x):
    return x.data
## detach, then view_as
def detach_alias(x):
    return x.detach().view_as(x)
## detach, then reshape (a view)
def detach_alias(x):
    return x.detach().reshape(x.shape)
## Tensor.detach called on the class
def detach_alias(x):
    return torch.Tensor.detach(x)
## clone | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    with torch.no_grad():
        return x.clone()
## detach().clone() | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return x.detach().clone()
## times one | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return x.detach() * 1
## copy_ into new memory | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return torch.empty_like(x).copy_(x.detach())
## dtype round trip | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return x.detach().to(torch.float64).to(x.dtype)
## zeros plus x | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return torch.zeros_like(x) + x.detach()
## returns x | fails: side_effects | side_effects: side.alias_requires_grad
def detach_alias(x):
    return x
## detaches x in place | fails: side_effects | side_effects: side.x_lost_requires_grad
def detach_alias(x):
    return x.detach_()
## a NumPy array, through the CPU: a copy on a GPU (and under the device watch)
## | fails: values, type | values: diag.copy_not_alias | type: type.numpy
def detach_alias(x):
    return x.detach().cpu().numpy()
## a NumPy array over x's own memory (on a CPU) | fails: type | type: type.numpy
def detach_alias(x):
    return x.detach().numpy(force=True)
## a NumPy copy | fails: values, type | values: diag.copy_not_alias | type: type.numpy
def detach_alias(x):
    return x.detach().cpu().numpy().copy()
## a Python list | fails: values, type | values: diag.copy_not_alias | type: type.list
def detach_alias(x):
    return x.tolist()
## an alias flattened where it can be (wrong shape) | fails: type | type: type.shape
def detach_alias(x):
    return x.detach().view(-1) if x.is_contiguous() else x.detach()
## detach under inference_mode
def detach_alias(x):
    with torch.inference_mode():
        return x.detach()
## detach().contiguous(): a copy when x is strided | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return x.detach().contiguous()
## flattened and reshaped: a copy when x is strided | fails: values | values: diag.copy_not_alias
def detach_alias(x):
    return x.detach().reshape(-1).reshape(x.shape)
## a new tensor over x's storage, offset ignored | fails: values
def detach_alias(x):
    base = torch.empty(0, dtype=x.dtype, device=x.device).set_(x.untyped_storage())
    return base[: x.numel()].view(x.shape)
""",
)

# unit 2: exercises 9-12
TRUNK = variants(
    "shared_trunk_grads",
    """
## heads on a cut copy, then one batched pass through the trunk (rows of one buffer)
def shared_trunk_grads(trunk, heads, x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        z = trunk(leaf)
        cut = z.detach().requires_grad_()
        gzs = [torch.autograd.grad(h(cut).sum(), cut)[0] for h in heads]
        (gs,) = torch.autograd.grad(
            z, leaf, grad_outputs=torch.stack(gzs), is_grads_batched=True
        )
    return list(gs.unbind(0))
## backward(retain_graph=True), .grad cleared and copied
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    out = []
    for h in heads:
        leaf.grad = None
        h(z).sum().backward(retain_graph=True)
        out.append(leaf.grad.clone())
    return out
## torch.func.vjp through the trunk once
def shared_trunk_grads(trunk, heads, x):
    z, pull = torch.func.vjp(trunk, x)
    out = []
    for h in heads:
        gz = torch.func.grad(lambda t: h(t).sum())(z)
        (g,) = pull(gz)
        out.append(g.detach())
    return out
## gradients at z first, then through the trunk with grad_outputs
def shared_trunk_grads(trunk, heads, x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        z = trunk(leaf)
        cut = z.detach().requires_grad_()
        out = []
        for h in heads:
            (gz,) = torch.autograd.grad(h(cut).sum(), cut)
            (g,) = torch.autograd.grad(z, leaf, grad_outputs=gz, retain_graph=True)
            out.append(g)
    return out
## trunk called once per head | fails: values | values: diag.trunk_calls
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    return [torch.autograd.grad(h(trunk(leaf)).sum(), leaf)[0] for h in heads]
## retain_graph forgotten | fails: values, type, side_effects | values: diag.retain_graph
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    out = []
    for h in heads:
        leaf.grad = None
        h(z).sum().backward()
        out.append(leaf.grad.clone())
    return out
## .grad never cleared between heads | fails: values | values: diag.heads_accumulated
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    out = []
    for h in heads:
        h(z).sum().backward(retain_graph=True)
        out.append(leaf.grad.clone())
    return out
## stores .grad itself, zeroed in place | fails: values, side_effects | values: diag.heads_aliased
## | side_effects: side.aliasing
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    out = []
    for h in heads:
        if leaf.grad is not None:
            leaf.grad.zero_()
        h(z).sum().backward(retain_graph=True)
        out.append(leaf.grad)
    return out
## all heads in one backward | fails: values | values: diag.heads_summed
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    total = sum(h(z).sum() for h in heads)
    (g,) = torch.autograd.grad(total, leaf)
    return [g.clone() for _ in heads]
## backward twice for each head | fails: values | values: diag.scaled_int
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    out = []
    for h in heads:
        leaf.grad = None
        loss = h(z).sum()
        loss.backward(retain_graph=True)
        loss.backward(retain_graph=True)
        out.append(leaf.grad.clone())
    return out
## mean instead of sum | fails: values
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    return [torch.autograd.grad(h(z).mean(), leaf, retain_graph=True)[0] for h in heads]
## the first head for every entry | fails: values
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    return [torch.autograd.grad(heads[0](z).sum(), leaf, retain_graph=True)[0] for h in heads]
## tutorial style on x itself | fails: side_effects | side_effects: side.input_now_requires_grad
def shared_trunk_grads(trunk, heads, x):
    x.requires_grad_(True)
    z = trunk(x)
    out = []
    for h in heads:
        x.grad = None
        h(z).sum().backward(retain_graph=True)
        out.append(x.grad.clone())
    return out
## create_graph left on: tied to the weights | fails: side_effects
## | side_effects: side.requires_grad
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    return [torch.autograd.grad(h(z).sum(), leaf, create_graph=True)[0] for h in heads]
## float64 gradients | fails: type | type: type.dtype
def shared_trunk_grads(trunk, heads, x):
    leaf = x.detach().requires_grad_()
    z = trunk(leaf)
    return [torch.autograd.grad(h(z).sum(), leaf, retain_graph=True)[0].double() for h in heads]
""",
)

HVP = variants(
    "hvp",
    """
## forward over forward: torch.func.jacfwd of jacfwd, times v
def hvp(f, x, v):
    n = x.numel()
    h = torch.func.jacfwd(torch.func.jacfwd(f))(x).reshape(n, n)
    return (h @ v.reshape(n)).reshape(x.shape).detach()
## reverse over forward: torch.func.grad of a jvp
def hvp(f, x, v):
    return torch.func.grad(lambda p: torch.func.jvp(f, (p,), (v,))[1])(x).detach()
## double backward with backward(), .grad cleared in between
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    (g * v).sum().backward()
    return leaf.grad
## torch.func.jvp of torch.func.grad
def hvp(f, x, v):
    return torch.func.jvp(torch.func.grad(f), (x,), (v,))[1].detach()
## torch.autograd.functional.hvp
def hvp(f, x, v):
    return torch.autograd.functional.hvp(f, x, v)[1]
## the whole Hessian from torch.func.hessian, times v
def hvp(f, x, v):
    n = x.numel()
    h = torch.func.hessian(f)(x).reshape(n, n)
    return (h @ v.reshape(n)).reshape(x.shape).detach()
## the gradient, not H v | fails: values | values: diag.hvp_gradient
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf)
    return g
## backward() twice, .grad not cleared | fails: values | values: diag.hvp_grad_plus
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    f(leaf).backward(create_graph=True)
    (leaf.grad * v).sum().backward()
    return leaf.grad.detach()
## v left out | fails: values | values: diag.hvp_no_v
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    return torch.autograd.grad(g.sum(), leaf)[0]
## the Hessian's diagonal times v | fails: values | values: diag.hvp_diagonal
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    flat = g.reshape(-1)
    diag = [torch.autograd.grad(flat[i], leaf, retain_graph=True)[0].reshape(-1)[i]
            for i in range(flat.numel())]
    return torch.stack(diag).reshape(x.shape) * v
## x and v swapped | fails: values | values: diag.hvp_swapped
def hvp(f, x, v):
    leaf = v.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    return torch.autograd.grad(g, leaf, grad_outputs=x)[0]
## create_graph forgotten | fails: values, type, side_effects | values: diag.create_graph
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf)
    return torch.autograd.grad(g, leaf, grad_outputs=v)[0]
## the directional derivative g.v | fails: values, type | values: diag.hvp_directional
def hvp(f, x, v):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(leaf), leaf)
    return (g * v).sum()
## finite differences of autograd gradients, in float64 | fails: values
## | values: values.not_second_order
def hvp(f, x, v):
    def grad_at(p):
        p = p.detach().requires_grad_()
        return torch.autograd.grad(f(p), p)[0].double()
    h = 1e-5
    x64, v64 = x.double(), v.double()
    return ((grad_at(x64 + h * v64) - grad_at(x64 - h * v64)) / (2 * h)).to(x.dtype)
## tutorial style on x itself | fails: side_effects | side_effects: side.input_now_requires_grad
def hvp(f, x, v):
    x.requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    return torch.autograd.grad(g, x, grad_outputs=v)[0]
## returned flat | fails: type | type: type.shape
def hvp(f, x, v):
    return torch.autograd.functional.hvp(f, x, v)[1].reshape(-1)
""",
)

INTERMEDIATE = variants(
    "intermediate_grads",
    """
## a prehook left on x's gradient accumulator | fails: side_effects
## | side_effects: side.hook_left
_KEPT = []


def intermediate_grads(f, g, x):
    y = f(x)
    dy, dx = torch.autograd.grad(g(y).sum(), (y, x))
    node = torch.autograd.graph.get_gradient_edge(x).node
    _KEPT.append(node)
    node.register_prehook(lambda grads: tuple(2 * t for t in grads))
    return dy, dx
## torch.autograd.grad(L, (y, x))
def intermediate_grads(f, g, x):
    y = f(x)
    return torch.autograd.grad(g(y).sum(), (y, x))
## a hook on y, x.grad set aside
def intermediate_grads(f, g, x):
    saved, x.grad = x.grad, None
    seen = {}
    y = f(x)
    y.register_hook(lambda grad: seen.setdefault("y", grad))
    g(y).sum().backward()
    dx = x.grad
    x.grad = saved
    return seen["y"], dx
## two steps: dL/dy, then back through f with grad_outputs
def intermediate_grads(f, g, x):
    y = f(x)
    (dy,) = torch.autograd.grad(g(y).sum(), y)
    (dx,) = torch.autograd.grad(y, x, grad_outputs=dy)
    return dy, dx
## torch.func.vjp on a detached x
def intermediate_grads(f, g, x):
    y, pull = torch.func.vjp(f, x.detach())
    dy = torch.func.grad(lambda t: g(t).sum())(y)
    (dx,) = pull(dy)
    return dy.detach(), dx.detach()
## dL/dx for both | fails: values, type | values: diag.dx_for_dy
def intermediate_grads(f, g, x):
    (dx,) = torch.autograd.grad(g(f(x)).sum(), x)
    return dx, dx
## no retain_grad: y.grad is None | fails: values, type | values: diag.dy_none
def intermediate_grads(f, g, x):
    saved, x.grad = x.grad, None
    y = f(x)
    g(y).sum().backward()
    dx = x.grad
    x.grad = saved
    return y.grad, dx
## the stale .grad left in | fails: values, side_effects | values: diag.stale_added
def intermediate_grads(f, g, x):
    y = f(x)
    y.retain_grad()
    g(y).sum().backward()
    return y.grad, x.grad.clone()
## the pair in the wrong order | fails: values, type | values: diag.pair_swapped
def intermediate_grads(f, g, x):
    y = f(x)
    dy, dx = torch.autograd.grad(g(y).sum(), (y, x))
    return dx, dy
## f called again for dL/dx | fails: values | values: diag.fg_calls
def intermediate_grads(f, g, x):
    y = f(x)
    (dy,) = torch.autograd.grad(g(y).sum(), y)
    (dx,) = torch.autograd.grad(g(f(x)).sum(), x)
    return dy, dx
## two backward passes through g | fails: values | values: diag.two_passes
def intermediate_grads(f, g, x):
    y = f(x)
    loss = g(y).sum()
    (dy,) = torch.autograd.grad(loss, y, retain_graph=True)
    (dx,) = torch.autograd.grad(loss, x)
    return dy, dx
## a copy set aside, but the stale .grad not cleared first | fails: values
## | values: diag.stale_added
def intermediate_grads(f, g, x):
    saved = None if x.grad is None else x.grad.clone()
    y = f(x)
    y.retain_grad()
    g(y).sum().backward()
    dy, dx = y.grad, x.grad.clone()
    x.grad = saved
    return dy, dx
## backward twice | fails: values | values: diag.scaled_int
def intermediate_grads(f, g, x):
    saved, x.grad = x.grad, None
    y = f(x)
    y.retain_grad()
    loss = g(y).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    dy, dx = y.grad, x.grad
    x.grad = saved
    return dy, dx
## vjp through f seeded with ones, not dL/dy | fails: values
def intermediate_grads(f, g, x):
    y, pull = torch.func.vjp(f, x.detach())
    dy = torch.func.grad(lambda t: g(t).sum())(y)
    (dx,) = pull(torch.ones_like(y))
    return dy.detach(), dx.detach()
## mean instead of sum | fails: values
def intermediate_grads(f, g, x):
    y = f(x)
    return torch.autograd.grad(g(y).mean(), (y, x))
## the stale .grad cleared, not put back | fails: side_effects | side_effects: side.grad_changed
def intermediate_grads(f, g, x):
    x.grad = None
    y = f(x)
    y.retain_grad()
    g(y).sum().backward()
    return y.grad, x.grad.clone()
## a hook on x left behind | fails: side_effects | side_effects: side.hook_left
def intermediate_grads(f, g, x):
    seen = {}
    y = f(x)
    y.register_hook(lambda grad: seen.setdefault("y", grad))
    x.register_hook(lambda grad: seen.setdefault("x", grad))
    torch.autograd.grad(g(y).sum(), x)
    return seen["y"], seen["x"]
""",
)

CLIPPED = variants(
    "clipped_grad",
    """
## a complex result, the right real part | fails: values, type | values: type.not_tensor
## | type: type.subclass
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.register_hook(lambda gy: gy.clamp(-c, c))
    g(y).sum().backward()
    return leaf.grad.to(torch.complex128) + 1000j
## two steps with torch.autograd.grad
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    (gy,) = torch.autograd.grad(g(y).sum(), y)
    (gx,) = torch.autograd.grad(y, leaf, grad_outputs=gy.clamp(-c, c))
    return gx
## torch.func.vjp, clamped in between
def clipped_grad(f, g, x, c):
    y, pull = torch.func.vjp(f, x)
    gy = torch.func.grad(lambda t: g(t).sum())(y)
    return pull(torch.clip(gy, -c, c))[0].detach()
## a named hook, removed afterwards, under enable_grad
def clipped_grad(f, g, x, c):
    def clamp(grad):
        return torch.clamp(grad, min=-c, max=c)

    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        y = f(leaf)
        handle = y.register_hook(clamp)
        (gx,) = torch.autograd.grad(g(y).sum(), leaf)
        handle.remove()
    return gx
## no clamp at all | fails: values | values: diag.not_clamped
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    g(f(leaf)).sum().backward()
    return leaf.grad
## the final gradient clamped | fails: values | values: diag.clamped_at_x
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    g(f(leaf)).sum().backward()
    return leaf.grad.clamp(-c, c)
## the hook on x instead of y | fails: values | values: diag.clamped_at_x
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    leaf.register_hook(lambda grad: grad.clamp(-c, c))
    (gx,) = torch.autograd.grad(g(f(leaf)).sum(), leaf)
    return gx
## clamped to [0, c] | fails: values | values: diag.clamped_nonneg
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.register_hook(lambda grad: grad.clamp(0, c))
    g(y).sum().backward()
    return leaf.grad
## clamped from above only | fails: values | values: diag.clamped_one_side
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.register_hook(lambda grad: grad.clamp(max=c))
    g(y).sum().backward()
    return leaf.grad
## scaled to norm c | fails: values | values: diag.clip_norm
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.register_hook(lambda grad: grad * min(1.0, c / float(grad.norm())))
    g(y).sum().backward()
    return leaf.grad
## the hook registered after backward | fails: values | values: diag.not_clamped
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    g(y).sum().backward()
    y.register_hook(lambda grad: grad.clamp(-c, c))
    return leaf.grad
## tutorial style on x itself | fails: side_effects | side_effects: side.input_now_requires_grad
def clipped_grad(f, g, x, c):
    x.requires_grad_(True)
    y = f(x)
    y.register_hook(lambda grad: grad.clamp(-c, c))
    (gx,) = torch.autograd.grad(g(y).sum(), x)
    return gx
## float64 result | fails: type | type: type.dtype
def clipped_grad(f, g, x, c):
    leaf = x.detach().requires_grad_()
    y = f(leaf)
    y.register_hook(lambda grad: grad.clamp(-c, c))
    g(y).sum().backward()
    return leaf.grad.double()
""",
)

# unit 2: exercises 13-16
ROUND = variants(
    "round_ste",
    """
## halves rounded toward zero | fails: values
def round_ste(x):
    r = torch.sign(x) * torch.ceil(x.abs() - 0.5)
    return x + (r - x).detach()
## clipped at 1000.5, beyond every value but the far ones | fails: values
class ClippedFar(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1000.5).to(g.dtype)


def round_ste(x):
    return ClippedFar.apply(x)
## clipped above only, at 3 | fails: values
class ClippedAbove(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x <= 3).to(g.dtype)


def round_ste(x):
    return ClippedAbove.apply(x)
## a Function at module level
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def round_ste(x):
    return RoundSTE.apply(x)
## the detach trick
def round_ste(x):
    return x + (torch.round(x) - x).detach()
## as_tensor first: x stays where it is
def round_ste(x):
    x = torch.as_tensor(x)
    return x + (torch.round(x) - x).detach()
## the rounding step built under no_grad
def round_ste(x):
    with torch.no_grad():
        step = torch.round(x) - x
    return x + step
## plain torch.round: zero gradient | fails: values | values: diag.round_zero_grad
def round_ste(x):
    return torch.round(x)
## no rounding at all | fails: values | values: diag.not_rounded
def round_ste(x):
    return x * 1.0
## detach trick the wrong way round | fails: values | values: diag.ste_reversed
def round_ste(x):
    return torch.round(x) + (x - torch.round(x)).detach()
## halves rounded up | fails: values | values: diag.round_half_up
def round_ste(x):
    return x + (torch.floor(x + 0.5) - x).detach()
## backward returns ones | fails: values | values: diag.ste_ones
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.ones_like(grad_output)


def round_ste(x):
    return RoundSTE.apply(x)
## clipped at 2.75, beyond the values near the ties | fails: values
class ClippedWide(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 2.75).to(g.dtype)


def round_ste(x):
    return ClippedWide.apply(x)
## clipped estimator | fails: values | values: diag.ste_clipped
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1)


def round_ste(x):
    return RoundSTE.apply(x)
## rounds a detached copy | fails: values | values: diag.ste_no_graph
def round_ste(x):
    return torch.round(x.detach())
## float64 result | fails: type | type: type.dtype
def round_ste(x):
    return (x + (torch.round(x) - x).detach()).double()
## records even under no_grad | fails: side_effects | side_effects: side.ste_records_no_grad
def round_ste(x):
    with torch.enable_grad():
        return x + (torch.round(x) - x).detach()
## switches requires_grad on for x | fails: side_effects
## | side_effects: side.x_requires_grad_changed
def round_ste(x):
    if torch.is_grad_enabled():
        x.requires_grad_(True)
    return x + (torch.round(x) - x).detach()
""",
)

JACOBIAN = variants(
    "jacobian",
    """
## torch.autograd.functional.jacobian
def jacobian(f, x):
    return torch.autograd.functional.jacobian(f, x.detach())
## torch.func.jacfwd (forward mode), detached
def jacobian(f, x):
    return torch.func.jacfwd(f)(x.detach()).detach()
## batched grad_outputs: the identity matrix at once
def jacobian(f, x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        y = f(leaf)
        eye = torch.eye(y.shape[0], dtype=y.dtype, device=y.device)
        (jac,) = torch.autograd.grad(y, leaf, eye, is_grads_batched=True)
    return jac
## .grad never cleared between rows | fails: values, side_effects
## | values: diag.jacobian_accumulated
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    rows = []
    for i in range(y.shape[0]):
        y[i].backward(retain_graph=True)
        rows.append(leaf.grad.clone())
    return torch.stack(rows)
## the selector never reset | fails: values | values: diag.jacobian_accumulated
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    pick = torch.zeros_like(y)
    rows = []
    for i in range(y.shape[0]):
        pick[i] = 1.0
        rows.append(torch.autograd.grad(y, leaf, pick, retain_graph=True)[0])
    return torch.stack(rows)
## grad_outputs of ones for every row | fails: values | values: diag.jacobian_rows_summed
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    ones = torch.ones_like(y)
    rows = [torch.autograd.grad(y, leaf, ones, retain_graph=True)[0] for _ in range(y.shape[0])]
    return torch.stack(rows)
## always the first output | fails: values | values: diag.jacobian_same_row
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    rows = []
    for i in range(y.shape[0]):
        pick = torch.zeros_like(y)
        pick[0] = 1.0
        rows.append(torch.autograd.grad(y, leaf, pick, retain_graph=True)[0])
    return torch.stack(rows)
## rows in reverse order | fails: values
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    rows = []
    for i in reversed(range(y.shape[0])):
        pick = torch.zeros_like(y)
        pick[i] = 1.0
        rows.append(torch.autograd.grad(y, leaf, pick, retain_graph=True)[0])
    return torch.stack(rows)
## at a fresh zero input instead of x | fails: values
def jacobian(f, x):
    return torch.autograd.functional.jacobian(f, torch.zeros_like(x))
## central differences | fails: values
def jacobian(f, x):
    h = 1e-6 if x.dtype == torch.float64 else 1e-3
    cols = []
    with torch.no_grad():
        for j in range(x.shape[0]):
            e = torch.zeros_like(x)
            e[j] = h
            cols.append((f(x + e) - f(x - e)) / (2 * h))
    return torch.stack(cols, dim=1)
## the transpose | fails: values, type | values: diag.jacobian_transposed
def jacobian(f, x):
    return torch.autograd.functional.jacobian(f, x.detach()).T
## one graph, no retain_graph | fails: values, type, side_effects
## | values: diag.jacobian_retain_graph
def jacobian(f, x):
    leaf = x.detach().requires_grad_(True)
    y = f(leaf)
    rows = [torch.autograd.grad(y[i], leaf)[0] for i in range(y.shape[0])]
    return torch.stack(rows)
## float64 result | fails: type | type: type.dtype
def jacobian(f, x):
    return torch.autograd.functional.jacobian(f, x.detach()).double()
## jacrev tied to f's weights | fails: side_effects | side_effects: side.requires_grad
def jacobian(f, x):
    return torch.func.jacrev(f)(x.detach())
## backward() fills the weights' .grad too | fails: side_effects
## | side_effects: side.weight_grad_appeared
def jacobian(f, x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        y = f(leaf)
        rows = []
        for i in range(y.shape[0]):
            leaf.grad = None
            y[i].backward(retain_graph=True)
            rows.append(leaf.grad.clone())
    return torch.stack(rows)
""",
)

NUMPY = variants(
    "to_numpy",
    """
## cpu, then detach
def to_numpy(t):
    return t.cpu().detach().numpy()
## numpy(force=True)
def to_numpy(t):
    return t.numpy(force=True)
## numpy.asarray of a CPU copy
import numpy


def to_numpy(t):
    return numpy.asarray(t.detach().cpu())
## tolist() | fails: values | values: diag.numpy_list
def to_numpy(t):
    return t.tolist()
## a tensor back, not converted | fails: values | values: diag.numpy_not_converted
def to_numpy(t):
    return t.detach().cpu()
## the raw storage, offset and strides ignored | fails: values
import numpy


def to_numpy(t):
    raw = bytes(t.detach().cpu().untyped_storage())
    flat = numpy.frombuffer(raw, dtype=str(t.dtype).removeprefix("torch."))
    return flat[: t.numel()].reshape(tuple(t.shape))
## zeros of the right shape and dtype | fails: values
import numpy


def to_numpy(t):
    return numpy.zeros(tuple(t.shape), dtype=str(t.dtype).removeprefix("torch."))
## rounded for display | fails: values
def to_numpy(t):
    return t.detach().cpu().numpy().round(2)
## sign flipped | fails: values | values: diag.sign
def to_numpy(t):
    return t.detach().cpu().numpy() * -1
## numpy() on a tensor that requires grad | fails: values, type, side_effects
## | values: diag.numpy_requires_grad
def to_numpy(t):
    return t.numpy()
## detach().numpy() without cpu() | fails: values, type, side_effects
## | values: diag.numpy_on_gpu
def to_numpy(t):
    return t.detach().numpy()
## torch.tensor(t) copies on t's device | fails: values, type, side_effects
## | values: diag.numpy_on_gpu
def to_numpy(t):
    return torch.tensor(t).numpy()
## as_tensor of detach(), no cpu() | fails: values, type, side_effects
## | values: diag.numpy_on_gpu
def to_numpy(t):
    return torch.as_tensor(t.detach()).numpy()
## numpy.array of tolist(): float64 | fails: type | type: type.numpy_dtype
import numpy


def to_numpy(t):
    return numpy.array(t.tolist())
## switches requires_grad off on t | fails: side_effects | side_effects: side.t_detached
def to_numpy(t):
    if t.is_leaf:
        t.requires_grad_(False)
    return t.detach().cpu().numpy()
## leaves gradient recording off | fails: side_effects
## | side_effects: side.grad_mode_left_off
def to_numpy(t):
    torch.set_grad_enabled(False)
    return t.detach().cpu().numpy()
""",
)

SAVE = variants(
    "save_weights",
    """
## clone, then cpu
def save_weights(params, path):
    torch.save([p.detach().clone().cpu() for p in params], path)
## .data, cpu, clone
def save_weights(params, path):
    torch.save([p.data.cpu().clone() for p in params], path)
## through NumPy: from_numpy of a CPU copy
def save_weights(params, path):
    torch.save([torch.from_numpy(p.detach().cpu().numpy()) for p in params], path)
## from_numpy imported by name, of a copy in NumPy
from torch import from_numpy


def save_weights(params, path):
    torch.save([from_numpy(p.detach().numpy(force=True).copy()) for p in params], path)
## the legacy format, to("cpu", copy=True)
def save_weights(params, path):
    weights = [p.detach().to("cpu", copy=True) for p in params]
    torch.save(weights, path, _use_new_zipfile_serialization=False)
## detach() only: saved on the GPU | fails: values | values: values.saved_on_gpu
def save_weights(params, path):
    torch.save([p.detach() for p in params], path)
## clone() without cpu() | fails: values | values: values.saved_on_gpu
def save_weights(params, path):
    torch.save([p.data.clone() for p in params], path)
## torch.tensor(p) copies on the GPU | fails: values | values: values.saved_on_gpu
def save_weights(params, path):
    torch.save([torch.tensor(p) for p in params], path)
## detach().cpu() of views: whole buffers | fails: values | values: diag.saved_whole_storage
def save_weights(params, path):
    torch.save([p.detach().cpu() for p in params], path)
## contiguous() copies nothing here | fails: values | values: diag.saved_whole_storage
def save_weights(params, path):
    torch.save([p.detach().cpu().contiguous() for p in params], path)
## the gradients instead of the weights | fails: values
def save_weights(params, path):
    grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
    torch.save([g.detach().cpu().clone() for g in grads], path)
## zeros of each shape | fails: values
def save_weights(params, path):
    torch.save([torch.zeros(p.shape, dtype=p.dtype) for p in params], path)
## a dict of weights | fails: values, type, side_effects | values: diag.saved_dict
def save_weights(params, path):
    torch.save({f"p{i}": p.detach().cpu().clone() for i, p in enumerate(params)}, path)
## pickle protocol 4 | fails: values, type, side_effects | values: values.unreadable_file
def save_weights(params, path):
    torch.save([p.detach().cpu().clone() for p in params], path, pickle_protocol=4)
## a tuple | fails: type | type: type.saved_tuple
def save_weights(params, path):
    torch.save(tuple(p.detach().cpu().clone() for p in params), path)
## copies that still require grad | fails: side_effects
## | side_effects: side.saved_requires_grad
def save_weights(params, path):
    torch.save([p.cpu().clone() for p in params], path)
## clears the grads first | fails: side_effects | side_effects: side.grad_changed
def save_weights(params, path):
    for p in params:
        p.grad = None
    torch.save([p.detach().cpu().clone() for p in params], path)
""",
)

VARIANTS: list[Variant] = [
    *SCALAR,
    *VECTOR,
    *PARTIAL,
    *NO_GRAD,
    *ACCUMULATE,
    *ZERO,
    *DESCENT,
    *DETACH,
    *TRUNK,
    *HVP,
    *INTERMEDIATE,
    *CLIPPED,
    # unit 2: exercises 13-16
    *ROUND,
    *JACOBIAN,
    *NUMPY,
    *SAVE,
]

SEEDS = (11, 2024, 90210)
"""Seeds the suite runs on; the first is the one the diagnosis tests read."""

VERDICT_SEEDS = (*SEEDS, *range(500, 517))
"""20 seeds on which every variant must get one and the same verdict."""


@functools.cache
def grade_variants(seed: int) -> dict[str, ExerciseResult]:
    """Every variant graded under ``seed``, by variant id.

    Variants are packed into submissions the way learners hand them in: the k-th
    submission holds the k-th variant of each exercise (and a copy of the reference
    solution where an exercise has fewer variants), so one sandboxed worker grades
    one of each, and a single ``grade()`` call (one pytest session) grades them all.
    """
    exercises = registry.EXERCISES
    by_exercise = {ex.name: [v for v in VARIANTS if v.exercise == ex.name] for ex in exercises}
    rounds = max(len(found) for found in by_exercise.values())
    submissions = []
    for k in range(rounds):
        sources = {}
        for ex in exercises:
            mine = by_exercise[ex.name]
            text = mine[k].source if k < len(mine) else (SOLUTIONS / ex.file).read_text()
            sources[ex.file] = Source(text, f"s{k}/{ex.file}")
        submissions.append(Submission(f"s{k}", Path(f"s{k}"), sources))
    settings = Settings(seed=seed, limits=Limits(timeout=20.0))
    found: dict[str, ExerciseResult] = {}
    with Sandbox(settings.limits) as box:
        for result in grade(submissions, exercises, settings, sandbox=box):
            k = int(result.submission[1:])
            for ex, graded in zip(exercises, result.exercises, strict=True):
                if k < len(by_exercise[ex.name]):
                    found[by_exercise[ex.name][k].id] = graded
    return found
