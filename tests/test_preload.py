"""What a worker imports for the learner before their code runs (and before the
sandbox user may no longer read the Python installation), so that it neither
fails nor counts against their time."""

from __future__ import annotations

import pytest

from grader.runner.preload import hands_gradients, modules_for


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("y.backward()", False),
        ("torch.autograd.grad(y.sum(), x)", False),
        ("y.backward(torch.ones_like(y))", True),
        ("y.backward(gradient=g)", True),
        ("torch.autograd.grad(y, x, v)", True),
        ("torch.autograd.grad(y, x, grad_outputs=v)", True),
        ("torch.autograd.functional.jacobian(f, x)", True),
        ("from torch.func import vjp", True),
    ],
)
def test_sources_that_hand_autograd_a_gradient_are_found(source: str, expected: bool) -> None:
    assert hands_gradients(source) is expected


def test_torch_func_brings_dynamo_and_plain_code_nothing() -> None:
    assert "torch._dynamo" in modules_for("import torch\nf = torch.func.grad(g)\n")
    assert modules_for("import torch\n") == ["torch"]
    assert modules_for("import os, socket\n") == []  # only allowlisted packages
