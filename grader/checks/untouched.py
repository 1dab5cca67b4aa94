"""Inputs left as they were, and hidden functions called as often as the contract says.

Every exercise but 7 (which updates its params in place by design) promises
that the caller's inputs keep their values: ``record_values`` (in the sandboxed
worker, right after the call returns) copies what the input holds then, and
``values_kept`` (in the grader's process) compares it bit for bit with the case.
Exercises 9-12 (unit 2) promise more: the inputs come back as they went in, with
``requires_grad`` as it was, no new or changed ``.grad``, and no hook left
registered on them (``record`` and ``kept``). Unit 1 leaves ``requires_grad``
and ``.grad`` of x to each exercise's contract (exercise 1 may follow the
tutorial and call ``x.requires_grad_()`` on the caller's x).

The probe side reads these facts through descriptors captured from torch's C
base class when this module is imported, before any learner code runs.

``Counted`` wraps a hidden function to count its calls (exercise 9's trunk is
called once in all; exercise 11's f and g once each).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch

from grader.cases import Case
from grader.checks import diagnose
from grader.checks.run import CheckFailed
from grader.messages import message
from grader.runner.execute import Observation
from grader.runner.observe import Recorder, grad_of

_TENSOR = torch.Tensor
_BASE = torch._C.TensorBase
_requires_grad = _BASE.requires_grad.__get__
_hooks = _BASE._backward_hooks.__get__
_post_hooks = _BASE._post_accumulate_grad_hooks.__get__
_is_leaf = _BASE.is_leaf.__get__
_set_grad = _BASE.grad.__set__


class Counted:
    """A hidden function that counts how often it is called (a plain object: the
    learner receives it wrapped by ``Recorder.watch``)."""

    __slots__ = ("calls", "fn")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.fn(*args)


def count(value: object) -> int:
    """A count recorded as a fact: an exact int, or -1 if something else is there."""
    return value if type(value) is int else -1  # type: ignore[return-value]


def _hook_count(found: object) -> int:
    if found is None:
        return 0
    if type(found) is OrderedDict or type(found) is dict:
        return len(found)  # type: ignore[arg-type]
    return -1  # something that is not torch's own dict: a hook of some kind


def record_values(rec: Recorder, name: str, t: torch.Tensor) -> None:
    """``name``'s values as the call left them. Probes call this first thing after
    the call returns, so that nothing the learner left behind (a hook, a view that
    a later step writes through) can put the values back before they are read."""
    rec.tensor(f"{name}.after", t)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same dtype, same shape and the very same bits in every element (NaN equals
    NaN, -0.0 does not equal 0.0). Only the elements each tensor views count: the
    recorded copies hold nothing of the unused memory around a strided input."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(_bits(a), _bits(b))


def _bits(t: torch.Tensor) -> torch.Tensor:
    flat = t.detach().cpu().resolve_conj().resolve_neg().reshape(-1).contiguous()
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return flat.view(torch.uint8)


def values_kept(case: Case, obs: Observation, name: str, *, label: str | None = None) -> None:
    """``name`` holds after the call exactly the values it held before: same dtype,
    shape and device, the same bits in each element it views, and still a plain
    tensor. ``label`` is how the feedback names it (``name`` if not given). Nothing
    to compare where the probe recorded nothing."""
    facts = obs.facts.get(f"{name}.after")
    if facts is None:
        return
    before = case.tensors[name]
    after = obs.tensors.get(f"{name}.after")
    kept_all = (
        facts.get("kind") == "tensor"
        and facts.get("device") == torch.device(case.device).type
        and after is not None
        and same_bits(after, before)
    )
    if not kept_all:
        raise CheckFailed(message("side.input_changed", name=label or name))


def record(rec: Recorder, name: str, t: torch.Tensor) -> None:
    """After the call: ``name``'s values, requires_grad, .grad and hooks; for a leaf
    that requires grad, also whether a later backward() still adds exactly its
    gradient (a hook left on the leaf's gradient accumulator would change it, and
    such hooks are not listed on the tensor)."""
    record_values(rec, name, t)
    rec.fact(f"{name}.requires_grad", bool(_requires_grad(t)))
    rec.tensor(f"{name}.grad", grad_of(t))
    rec.fact(f"{name}.hooks", _hook_count(_hooks(t)) + _hook_count(_post_hooks(t)))
    if type(t) is _TENSOR and _requires_grad(t) and _is_leaf(t):
        with rec.step("later_backward"):
            exact = rec.settled(lambda: _later_backward_is_plain(t))
            rec.fact(f"{name}.later_backward_plain", exact is True)


def _later_backward_is_plain(t: torch.Tensor) -> bool:
    """``(t * w).sum().backward()`` with t's .grad set aside gives t.grad == w; the
    .grad t held is put back whatever happens."""
    held = grad_of(t)
    _set_grad(t, None)
    try:
        with torch.enable_grad():
            w = torch.full(tuple(t.shape), 1.5, dtype=t.dtype, device=t.device)
            (t * w).sum().backward()
        got = grad_of(t)
        return type(got) is _TENSOR and torch.equal(got, w)
    finally:
        _set_grad(t, held)


def kept(case: Case, obs: Observation, name: str, *, added: torch.Tensor | None = None) -> None:
    """``name`` is as it was before the call. ``added`` is the gradient the
    function computes for it: a .grad that grew by exactly that much was added to
    in place by backward(), which the feedback then says."""
    values_kept(case, obs, name)
    wanted = name in case.meta.get("requires_grad", [])
    now = obs.facts.get(f"{name}.requires_grad")
    if now is not None and bool(now) != wanted:
        key = "side.input_lost_requires_grad" if wanted else "side.input_now_requires_grad"
        raise CheckFailed(message(key, name=name))
    plain = obs.facts.get(f"{name}.later_backward_plain")
    if obs.facts.get(f"{name}.hooks", 0) != 0 or plain is False:
        raise CheckFailed(message("side.hook_left", name=name))
    stale = case.tensors.get(f"{name}.grad")
    kind = obs.facts.get(f"{name}.grad", {}).get("kind")
    if stale is None:
        if kind not in (None, "none"):
            raise CheckFailed(message("side.grad_left_on_input", name=name))
        return
    left = obs.tensors.get(f"{name}.grad")
    if left is not None and diagnose.close(left, stale, stale.dtype):
        return
    changed = message("side.grad_changed", name=name)
    if left is not None and added is not None and diagnose.close(left, stale + added, stale.dtype):
        changed = changed.plus(message("side.grad_added_in_place", name=name))
    raise CheckFailed(changed)
