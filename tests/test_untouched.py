"""Unit 2's promise that inputs come back as they went in, tested on its own: each
change a learner's function can make to x is recorded in the worker and named by
the check (``grader.checks.untouched``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from grader.cases import Case
from grader.checks import untouched
from grader.checks.run import CheckFailed
from grader.runner.execute import Observation
from grader.runner.observe import Recorder


def _case(*, requires_grad: bool, stale: bool) -> Case:
    tensors = {"x": torch.tensor([[0.5, -1.0], [2.0, 0.25]])}
    if stale:
        tensors["x.grad"] = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    return Case(tensors, {"requires_grad": ["x"] if requires_grad else []})


def _keys(case: Case, change: Callable[[torch.Tensor], None], **kw) -> list[str]:
    """The message keys ``kept`` raises after ``change`` ran on the live x."""
    live = case.materialize()
    x = live.tensors["x"]
    change(x)
    rec = Recorder()
    untouched.record(rec, "x", x)
    obs = Observation("ok", rec.facts, rec.tensors)
    try:
        untouched.kept(case, obs, "x", **kw)
    except CheckFailed as failed:
        return [failed.feedback.key, *(t.key for t in failed.feedback.then)]
    return []


def _nothing(x: torch.Tensor) -> None:
    pass


def _backward(x: torch.Tensor) -> None:
    (x * 3).sum().backward()


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("stale", [False, True])
def test_an_untouched_input_passes(requires_grad: bool, stale: bool) -> None:
    assert _keys(_case(requires_grad=requires_grad, stale=stale), _nothing) == []


def test_each_change_is_named() -> None:
    plain = _case(requires_grad=False, stale=False)
    leaf = _case(requires_grad=True, stale=False)
    held = _case(requires_grad=True, stale=True)
    with torch.no_grad():
        assert _keys(plain, lambda x: x.mul_(2)) == ["side.input_changed"]
    assert _keys(plain, lambda x: x.requires_grad_(True)) == ["side.input_now_requires_grad"]
    assert _keys(leaf, lambda x: x.requires_grad_(False)) == ["side.input_lost_requires_grad"]
    assert _keys(leaf, lambda x: x.register_hook(lambda g: g)) == ["side.hook_left"]
    assert _keys(leaf, lambda x: x.register_post_accumulate_grad_hook(print)) == ["side.hook_left"]
    assert _keys(leaf, lambda x: x.register_hook(lambda g: g).remove()) == []
    assert _keys(leaf, _backward) == ["side.grad_left_on_input"]

    def cleared(x: torch.Tensor) -> None:
        x.grad = None

    assert _keys(held, cleared) == ["side.grad_changed"]
    assert _keys(held, _backward) == ["side.grad_changed"]  # no gradient given: no story
    three = torch.full((2, 2), 3.0)
    assert _keys(held, _backward, added=three) == ["side.grad_changed", "side.grad_added_in_place"]

    def set_aside_and_back(x: torch.Tensor) -> None:
        saved, x.grad = x.grad, None
        _backward(x)
        x.grad = saved

    assert _keys(held, set_aside_and_back, added=three) == []


def test_counted_counts_calls() -> None:
    counted = untouched.Counted(torch.sin)
    for _ in range(3):
        counted(torch.zeros(2))
    assert counted.calls == 3
    assert untouched.count(3) == 3 and untouched.count(True) == -1 and untouched.count("3") == -1
