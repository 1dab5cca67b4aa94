"""DeviceWatch marks results that would leave a GPU input's device, and only those;
``.numpy()`` of a tensor still on the GPU fails, and torch.save tags such storages
``cuda:0``, as on a GPU."""

from __future__ import annotations

import io

import numpy
import pytest
import torch

from grader.runner.devicewatch import DEFAULT_DEVICE, MOVED_TO_CPU, NUMPY_ON_GPU, DeviceWatch


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


def test_explicit_cpu_device_is_marked() -> None:
    assert watched(lambda g: torch.zeros(g.shape, device="cpu") + g) == MOVED_TO_CPU
    assert watched(lambda g: torch.zeros_like(g, device="cpu")) == MOVED_TO_CPU
    assert watched(lambda g: torch.zeros_like(g, device=g.device)) is None


def numpy_result(fn) -> str:  # type: ignore[no-untyped-def]
    """``ok`` or the TypeError's message, for ``fn`` run on a watched tensor."""
    g = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    try:
        with DeviceWatch():
            out = fn(g)
    except TypeError as exc:
        return str(exc)
    assert isinstance(out, numpy.ndarray)
    return "ok"


# numpy retries __array__ without copy= after a TypeError, and warns that it did
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_numpy_of_a_tensor_still_on_the_gpu_fails_as_on_a_gpu() -> None:
    assert numpy_result(lambda g: g.detach().numpy()) == NUMPY_ON_GPU
    assert numpy_result(lambda g: g.data.numpy()) == NUMPY_ON_GPU
    assert numpy_result(lambda g: numpy.asarray(g.detach())) == NUMPY_ON_GPU
    assert numpy_result(lambda g: numpy.array(g.detach(), dtype=numpy.float64)) == NUMPY_ON_GPU
    assert numpy_result(lambda g: torch.Tensor.numpy(g.detach())) == NUMPY_ON_GPU
    assert numpy_result(lambda g: g.numpy()) == NUMPY_ON_GPU  # CUDA checks the device first
    assert "cuda:0" in NUMPY_ON_GPU and "cpu()" in NUMPY_ON_GPU


def test_numpy_after_a_move_to_the_cpu_works() -> None:
    assert numpy_result(lambda g: g.detach().cpu().numpy()) == "ok"
    assert numpy_result(lambda g: g.cpu().detach().numpy()) == "ok"
    assert numpy_result(lambda g: g.detach().to("cpu").numpy()) == "ok"
    assert numpy_result(lambda g: numpy.asarray(g.detach().cpu())) == "ok"
    assert numpy_result(lambda g: g.numpy(force=True)) == "ok"
    assert numpy_result(lambda g: numpy.array(g.tolist(), dtype=numpy.float32)) == "ok"
    with DeviceWatch():  # the watch ends with the block
        pass
    assert isinstance(torch.ones(2).numpy(), numpy.ndarray)


def saved_locations(save) -> list[str]:  # type: ignore[no-untyped-def]
    """The storage locations ``save(params, file)`` writes for a view into a buffer."""
    buffer = torch.arange(10.0)
    params = [buffer[2:5].detach().requires_grad_(), torch.tensor(1.5, requires_grad=True)]
    file = io.BytesIO()
    with DeviceWatch():
        save(params, file)
    seen: list[str] = []

    def note(storage, location):  # type: ignore[no-untyped-def]
        seen.append(location)
        return storage

    file.seek(0)
    torch.load(file, map_location=note, weights_only=True)  # our own file: trusted
    return seen


def test_saving_tensors_still_on_the_gpu_writes_a_gpu_location() -> None:
    registry = list(torch.serialization._package_registry)
    gpu = ["cuda:0", "cuda:0"]
    assert saved_locations(lambda ps, f: torch.save([p.detach() for p in ps], f)) == gpu
    assert saved_locations(lambda ps, f: torch.save(ps, f)) == gpu
    assert saved_locations(lambda ps, f: torch.save([p.data.clone() for p in ps], f)) == gpu
    assert saved_locations(lambda ps, f: torch.save({"w": [p.detach() for p in ps]}, f)) == gpu
    assert torch.serialization._package_registry == registry  # nothing left behind


def test_saving_tensors_moved_to_the_cpu_writes_cpu() -> None:
    for move in (
        lambda p: p.detach().cpu(),
        lambda p: p.cpu().detach(),
        lambda p: p.detach().to("cpu", copy=True),
        lambda p: torch.tensor(p.tolist()),
        lambda p: torch.empty(p.shape, device="cpu").copy_(p.detach()),
    ):
        assert saved_locations(lambda ps, f, m=move: torch.save([m(p) for p in ps], f)) == [
            "cpu",
            "cpu",
        ]
    file = io.BytesIO()
    torch.save([torch.ones(2)], file)  # no watch: torch's own tags
    assert b"cuda" not in file.getvalue()
