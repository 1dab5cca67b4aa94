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


def _values_key(case: Case, change: Callable[[torch.Tensor], object]) -> str | None:
    """The message key ``values_kept`` raises after ``change`` ran on the live x."""
    live = case.materialize()
    x = live.tensors["x"]
    change(x)
    rec = Recorder()
    untouched.record_values(rec, "x", x)
    try:
        untouched.values_kept(case, Observation("ok", rec.facts, rec.tensors), "x")
    except CheckFailed as failed:
        return failed.feedback.key
    return None


def test_same_bits_is_exact_and_nan_aware() -> None:
    a = torch.tensor([1.0, float("nan"), -0.0])
    assert untouched.same_bits(a, a.clone())
    assert not untouched.same_bits(a, torch.tensor([1.0, float("nan"), 0.0]))  # -0.0 is not 0.0
    assert not untouched.same_bits(a, torch.tensor([1.0, float("nan"), float("nan")]))
    assert not untouched.same_bits(a, a.double())
    assert not untouched.same_bits(a, a.reshape(3, 1))
    b = torch.tensor(1.0)
    assert not untouched.same_bits(b, torch.nextafter(b, torch.tensor(2.0)))  # one ulp
    assert untouched.same_bits(torch.tensor([True, False]), torch.tensor([True, False]))


@pytest.mark.parametrize("layout", ["offset", "stepped", "transposed", "expanded:0"])
def test_a_strided_input_is_compared_on_what_it_views(layout: str) -> None:
    values = torch.tensor([[0.5, float("nan")], [0.5, float("nan")]])  # NaN values too
    case = Case({"x": values}, {"layout": {"x": layout}})
    assert _values_key(case, _nothing) is None

    def gap(x: torch.Tensor) -> None:  # the unused memory around the view: not x's values
        whole = torch.empty(0, dtype=x.dtype).set_(x.untyped_storage())
        seen = {
            x.storage_offset() + i * x.stride(0) + j * x.stride(1)
            for i in range(2)
            for j in range(2)
        }
        for k in set(range(whole.numel())) - seen:
            whole[k] = 7.0

    assert _values_key(case, gap) is None
    if layout != "expanded:0":  # written in place (an expanded x cannot be)
        with torch.no_grad():
            assert _values_key(case, lambda x: x[0, 0].add_(1.0)) == "side.input_changed"

    def same_values_elsewhere(x: torch.Tensor) -> None:  # NaN values kept bit for bit
        x.data = x.data.clone()

    assert _values_key(case, same_values_elsewhere) is None


class _Sub(torch.Tensor):
    pass


def test_each_way_to_change_the_values_is_caught() -> None:
    case = Case({"x": torch.tensor([[0.5, -1.0], [2.0, 0.25]])}, {})

    def assign_data(x: torch.Tensor) -> None:
        x.data = torch.zeros_like(x)

    def same_values_wider(x: torch.Tensor) -> None:
        x.data = x.data.double()

    def negated_view(x: torch.Tensor) -> None:
        x.data = x.data._neg_view()

    def resized(x: torch.Tensor) -> None:
        x.data = x.data.reshape(4)

    def another_class(x: torch.Tensor) -> None:
        x.__class__ = _Sub

    def restored_in_the_same_call(x: torch.Tensor) -> None:
        saved = x.detach().clone()
        x.data.mul_(0)
        x.data.copy_(saved)

    with torch.no_grad():
        for change in (
            lambda x: x.copy_(x * 2),
            lambda x: x.detach().zero_(),
            lambda x: x.data.mul_(0),
            lambda x: x.set_(torch.ones(2, 2)),
            assign_data,
            same_values_wider,
            negated_view,
            resized,
            another_class,
        ):
            assert _values_key(case, change) == "side.input_changed"
        assert _values_key(case, restored_in_the_same_call) is None
        assert _values_key(case, lambda x: x.requires_grad_(True)) is None  # unit 1 allows it


def test_values_are_read_before_the_probe_writes_through_x() -> None:
    """Exercise 8's probe writes through x and the result after the call (inverting
    their bytes, then inverting them back); the values are read before that, and the
    probe leaves x exactly as the learner's function left it."""
    from grader.checks import ex08_detach

    def sly(x: torch.Tensor) -> torch.Tensor:
        out = x.detach()
        out.sub_(3.0)
        return out

    case = Case({"x": torch.tensor([0.5, -1.0, 2.0])}, {"requires_grad": ["x"]})
    live = case.materialize()
    rec = Recorder()
    ex08_detach.probe(sly, live, rec)
    assert untouched.same_bits(live.tensors["x"].detach(), case.tensors["x"] - 3.0)
    with pytest.raises(CheckFailed) as failed:
        untouched.values_kept(case, Observation("ok", rec.facts, rec.tensors), "x")
    assert failed.value.feedback.key == "side.input_changed"
