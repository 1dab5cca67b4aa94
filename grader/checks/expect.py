"""Assertions shared by the exercises' checks. Each raises ``CheckFailed`` with
feedback that says what was expected, what came back, and the likely mistake."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from grader.cases import Case
from grader.checks import diagnose, show, untouched
from grader.checks.run import CheckFailed, ExerciseRun
from grader.messages import message
from grader.runner.execute import Observation
from grader.runner.observe import MAX_ITEMS


class PrecisionOnly(CheckFailed):
    """A float64 value that is right within float32's tolerance but not float64's."""


def returned(obs: Observation, key: str, what: str) -> Tensor:
    """The values of a returned result as float64 (tensors, numbers and arrays alike).

    A result that holds no numbers (None, a lying Tensor subclass, another object)
    fails here; a number or array of the right values passes, and the type check
    says what is wrong with its type.
    """
    facts = obs.facts.get(key, {"kind": "missing"})
    kind = facts.get("kind")
    if kind in ("tensor", "numpy") and key in obs.tensors:
        return obs.tensors[key].to(torch.float64)
    if kind == "number":
        return torch.tensor(float(facts["value"]), dtype=torch.float64)
    if kind == "none":
        raise CheckFailed(message("type.none", what=what))
    if kind in ("list", "tuple") and key in obs.tensors:  # numbers, as from .tolist()
        return obs.tensors[key].to(torch.float64)
    if kind in ("list", "tuple"):
        items = [obs.facts.get(f"{key}.{i}", {}) for i in range(int(facts.get("len", 0)))]
        if items and all(i.get("kind") == "number" for i in items):
            return torch.tensor([float(i["value"]) for i in items], dtype=torch.float64)
    raise CheckFailed(message("type.not_tensor", what=what, type=type_name(facts)))


def sequence(facts: dict[str, Any], n: int, *, what: str, length_key: str = "type.length") -> int:
    """``n``, once the result is a tuple or list of ``n`` items (else the type check's
    feedback says what came back)."""
    out = facts.get("out", {})
    if out.get("kind") not in ("tuple", "list"):
        raise CheckFailed(message("type.not_sequence", what=what, n=n, type=type_name(out)))
    if int(out.get("len", 0)) != n:
        raise CheckFailed(message(length_key, what=what, n=n, got=out.get("len")))
    return n


def items_like(obs: Observation, n: int, like: Tensor, *, what: str, device: str) -> None:
    """Items ``out.0`` ... ``out.{n-1}`` are each a tensor like ``like`` (``tensor_like``)."""
    for i in range(n):
        tensor_like(obs.facts[f"out.{i}"], like, what=f"{what} {i + 1}", device=device)


def items_apart(obs: Observation, *, what: str) -> None:
    """The returned items are detached, and no two share memory (the probe recorded
    ``shared_pairs``)."""
    n = int(obs.facts.get("out", {}).get("len", 0) or 0)
    for i in range(min(n, MAX_ITEMS)):
        detached(obs.facts.get(f"out.{i}", {}), what=f"{what} {i + 1}")
    if obs.facts.get("shared_pairs"):
        i, j = obs.facts["shared_pairs"][0]
        raise CheckFailed(message("side.aliasing", i=i + 1, j=j + 1))


def type_name(facts: dict[str, Any]) -> str:
    kind = facts.get("kind")
    if kind == "tensor":
        return "torch.Tensor"
    if kind in ("list", "tuple"):
        return kind
    if kind == "none":
        return "None"
    return str(facts.get("type", kind))


def values(
    got: Tensor,
    expected: Tensor,
    *,
    where: str,
    dtype: torch.dtype,
    numel: int = 1,
    predictions: Callable[[], list[diagnose.Prediction]] | None = None,
    loose: float = 1.0,
    gradient: bool = True,
) -> None:
    """``got`` equals ``expected`` within the dtype's tolerance.

    ``predictions`` (computed only on a mismatch) gives what classic mistakes
    would have returned, so the feedback can name the one that matches.
    ``gradient=False`` says the result is not a gradient (f(x), an alias of x), so
    patterns that only gradients show (scaled by the number of backward() calls,
    1/n from a mean) are not claimed.
    """
    if got.shape != expected.shape:
        if got.numel() == expected.numel():
            got = got.reshape(expected.shape)
        else:
            raise CheckFailed(
                message(
                    "values.shape",
                    where=where,
                    expected=show.shape(expected.shape),
                    got=show.shape(got.shape),
                )
            )
    if diagnose.close(got, expected, dtype, loose):
        return
    predicted = predictions() if predictions else []
    why = diagnose.explain(
        got, expected, dtype, numel=numel, predictions=predicted, gradient=gradient
    )
    shown_expected, shown_got = show.apart(expected, got)
    failed = PrecisionOnly if diagnose.in_float32(got, expected, dtype) else CheckFailed
    raise failed(
        message("values.mismatch", where=where, expected=shown_expected, got=shown_got).plus(*why)
    )


def source_first(
    source: Callable[[ExerciseRun], None],
) -> Callable[[Callable[[ExerciseRun], None]], Callable[[ExerciseRun], None]]:
    """A values check that, when a value is off at float32's precision only or off
    with no story to tell, first runs ``source`` (``autograd_used`` or the like):
    finite differences miss the hidden functions (``grader.functions.guarded``),
    by a little or by a lot, and then where the numbers came from is the mistake
    to name, not their precision. A named story (the learner returned f(x), say)
    is kept."""

    def wrap(check: Callable[[ExerciseRun], None]) -> Callable[[ExerciseRun], None]:
        @functools.wraps(check)
        def checked(run: ExerciseRun) -> None:
            try:
                check(run)
            except CheckFailed as failed:
                told = failed.feedback
                if isinstance(failed, PrecisionOnly) or (
                    told.key == "values.mismatch" and not told.then
                ):
                    source(run)
                raise

        return checked

    return wrap


def autograd_used(run: ExerciseRun, need: Callable[[Case], int] = lambda case: 1) -> None:
    """In every case, each watched function's output had at least ``need(case)``
    gradient passes through it (``grader.runner.backprop``): the right numbers came
    from autograd, not from finite differences or a derivative written by hand.
    (Checked after the values, so a wrong number is reported as such first.)"""
    if not _autograd_ran(run, need):
        raise CheckFailed(message("values.not_autograd"))


def _autograd_ran(run: ExerciseRun, need: Callable[[Case], int]) -> bool:
    for case, obs in zip(run.cases, run.outcome.observations, strict=True):
        if case.meta.get("grad_mode_only") or obs.status != "ok":
            continue
        passes = obs.facts.get("passes")
        counts = [p for p in passes if type(p) is int] if type(passes) is list else []
        if not counts or len(counts) != len(passes) or min(counts) < need(case):
            return False
    return True


def no_optimizer(run: ExerciseRun) -> None:
    """torch.optim was not used (``grader.runner.optimwatch`` reports each use)."""
    for event in run.outcome.events:
        if event.get("event") == "optimizer":
            raise CheckFailed(message("diag.uses_optim", name=str(event.get("name", ""))[:120]))


def tensor_like(facts: dict[str, Any], like: Tensor, *, what: str, device: str) -> None:
    """An exact ``torch.Tensor`` with ``like``'s shape and dtype, on ``device``."""
    kind = facts.get("kind")
    if kind == "subclass":
        raise CheckFailed(message("type.subclass", what=what, type=facts.get("type", "?")))
    if kind != "tensor":
        key = {
            "number": "type.number",
            "numpy": "type.numpy",
            "none": "type.none",
            "list": "type.list",
            "tuple": "type.list",
        }.get(str(kind), "type.not_tensor")
        raise CheckFailed(message(key, what=what, type=type_name(facts)))
    if list(facts["shape"]) != list(like.shape):
        raise CheckFailed(
            message(
                "type.shape",
                what=what,
                expected=show.shape(like.shape),
                got=show.shape(facts["shape"]),
            )
        )
    if facts["dtype"] != show.dtype(like.dtype):
        raise CheckFailed(
            message("type.dtype", what=what, expected=show.dtype(like.dtype), got=facts["dtype"])
        )
    if facts["device"] != device:
        raise CheckFailed(message("type.device", what=what, expected=device, got=facts["device"]))


def detached(facts: dict[str, Any], *, what: str) -> None:
    """A result that does not require grad and hangs off no graph."""
    if facts.get("kind") != "tensor":
        return  # the type check reports non-tensors
    if facts.get("requires_grad") or facts.get("grad_fn"):
        raise CheckFailed(message("side.requires_grad", what=what))


def grad_left_alone(case: Case, obs: Observation, name: str) -> None:
    """``name``'s .grad after the call is what it was before: none, or the same values
    (the probe records it as ``<name>.grad``)."""
    before = case.tensors.get(f"{name}.grad")
    kind = obs.facts.get(f"{name}.grad", {}).get("kind")
    if before is None:
        if kind == "tensor":
            raise CheckFailed(message("side.grad_appeared", name=name))
        return
    after = obs.tensors.get(f"{name}.grad")
    if after is None or not diagnose.close(after, before, before.dtype):
        raise CheckFailed(message("side.grad_changed", name=name))


def _just_x(case: Case) -> list[tuple[str, str]]:
    del case
    return [("x", "x")]


def inputs_kept(
    run: ExerciseRun, inputs: Callable[[Case], list[tuple[str, str]]] = _just_x
) -> None:
    """Every call, the ``grad_mode_only`` ones included, left the values of the
    caller's inputs as they were (``untouched.values_kept``). ``inputs`` gives each
    case's inputs as (name in the case, name the feedback uses)."""
    for case, obs in [*run.each(), *run.grad_mode_only()]:
        for name, label in inputs(case):
            untouched.values_kept(case, obs, name, label=label)


def grad_mode_kept(run: ExerciseRun) -> None:
    """Every call, the ``grad_mode_only`` ones included, left the grad mode as it was."""
    for case, obs in run.each():
        grad_mode_restored(case, obs)
    for case, obs in run.grad_mode_only():
        grad_mode_restored(case, obs)


def grad_mode_restored(case: Case, obs: Observation) -> None:
    before = bool(case.meta.get("grad_mode", True))
    after = obs.facts.get("grad_mode_after")
    if after is None or bool(after) == before:
        return
    key = "side.grad_mode_left_off" if before else "side.grad_mode_left_on"
    raise CheckFailed(message(key))


def device_agnostic(run: ExerciseRun, keys: list[str], what: str) -> None:
    """Results stay on the inputs' device, whatever that device is.

    On a CPU-only machine the case marked ``watch_device`` runs under
    ``grader.runner.devicewatch.DeviceWatch``, which marks results that would have
    left a GPU input's device (``.cpu()``, factories without ``device=``,
    ``torch.from_numpy``).
    """
    del keys  # the watch covers the whole returned value
    for _case, obs in run.each():
        why = obs.facts.get("device_taint")
        if why == "moved_to_cpu":
            raise CheckFailed(message("type.moved_to_cpu", what=what))
        if why == "default_device":
            raise CheckFailed(message("type.default_device", what=what, got="cpu"))
        if why == "made_on_cpu":
            raise CheckFailed(message("type.made_on_cpu", what=what))


def with_raised_diagnosis(
    run: ExerciseRun, failed: CheckFailed, stories: dict[str, str]
) -> CheckFailed:
    """``failed`` with a diagnosis added when it reports an exception (``run.each``)
    whose message shows a classic mistake. ``stories`` maps words the message holds
    to the diagnosis's message key; the first that fits is named."""
    if failed.feedback.key != "raised.exception":
        return failed
    for case, obs in zip(run.cases, run.outcome.observations, strict=False):
        if case.meta.get("grad_mode_only") or obs.status == "ok":
            continue
        said = f"{(obs.error or {}).get('type', '')}: {(obs.error or {}).get('message', '')}"
        for words, key in stories.items():
            if words in said:
                return CheckFailed(failed.feedback.plus(message(key)))
        break
    return failed
