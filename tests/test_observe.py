"""What the worker records about a result: only plain dense real tensors travel
as tensors; anything else is named by its type, and a learner's patched builtin
cannot change a recorded fact."""

from __future__ import annotations

import builtins

import pytest
import torch

from grader.runner.observe import Recorder

ODD = {
    "sparse": lambda: torch.ones(3).to_sparse(),
    "quantized": lambda: torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint32),
    "mkldnn": lambda: torch.ones(3).to_mkldnn(),
    "complex": lambda: torch.ones(3, dtype=torch.complex64),
    "meta": lambda: torch.ones(3, device="meta"),
}


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
@pytest.mark.parametrize("kind", sorted(ODD))
def test_an_odd_tensor_is_described_not_sent(kind: str) -> None:
    rec = Recorder()
    rec.value("out", ODD[kind]())
    assert rec.facts["out"]["kind"] == "subclass"
    assert rec.facts["out"]["type"].startswith("torch.Tensor (")
    assert "out" not in rec.tensors


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int64])
def test_a_plain_tensor_is_sent(dtype: torch.dtype) -> None:
    rec = Recorder()
    rec.value("out", torch.ones(2, 3, dtype=dtype).t())
    assert rec.facts["out"]["kind"] == "tensor"
    assert torch.equal(rec.tensors["out"], torch.ones(3, 2, dtype=dtype))


def test_a_patched_bool_cannot_hide_the_grad_mode_left_behind() -> None:
    real = builtins.bool

    def leaks_and_lies() -> None:
        torch.set_grad_enabled(False)
        builtins.bool = lambda value=False: True  # type: ignore[assignment]

    try:
        rec = Recorder(settle=lambda: setattr(builtins, "bool", real))
        rec.call(leaks_and_lies)
    finally:
        builtins.bool = real
        torch.set_grad_enabled(True)
    assert rec.facts["grad_mode_after"] is False
