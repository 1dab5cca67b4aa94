"""DeviceWatch marks results that would leave a GPU input's device, and only those."""

from __future__ import annotations

import torch

from grader.runner.devicewatch import DEFAULT_DEVICE, MOVED_TO_CPU, DeviceWatch


def watched(fn) -> str | None:  # type: ignore[no-untyped-def]
    g = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    with DeviceWatch() as watch:
        out = fn(g)
    return watch.why(out)


def test_moves_and_default_device_tensors_are_marked() -> None:
    assert watched(lambda g: g.cpu()) == MOVED_TO_CPU
    assert watched(lambda g: g.to("cpu") * 2) == MOVED_TO_CPU
    assert watched(lambda g: torch.zeros(g.shape) + g) == DEFAULT_DEVICE
    assert watched(lambda g: torch.tensor([1.0, 2.0, 3.0]) * g) == DEFAULT_DEVICE
    assert watched(lambda g: [g, torch.ones(3)]) == DEFAULT_DEVICE


def test_device_agnostic_code_is_not_marked() -> None:
    assert watched(lambda g: torch.zeros_like(g) + g) is None
    assert watched(lambda g: torch.zeros(g.shape, device=g.device) + g) is None
    assert watched(lambda g: torch.tensor(2.0) * g) is None  # 0-d CPU tensors mix with GPU ones
    assert watched(lambda g: g[torch.arange(2)]) is None  # CPU index tensors are accepted
    assert watched(lambda g: g.detach().clone()) is None
