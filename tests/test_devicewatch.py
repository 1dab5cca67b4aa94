"""DeviceWatch marks results that would leave a GPU input's device, and only those;
``.numpy()`` of a tensor still on the GPU fails, and torch.save tags such storages
``cuda:0``, as on a GPU."""

from __future__ import annotations

import io

import numpy
import pytest
import torch

from grader.runner import devicewatch
from grader.runner.devicewatch import (
    DEFAULT_DEVICE,
    MADE_ON_CPU,
    MOVED_TO_CPU,
    NUMPY_ON_GPU,
    DeviceWatch,
)


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


def test_moves_to_the_inputs_device_clear_the_mark_and_keep_an_alias() -> None:
    """``.to(x.device)``, ``.to(x)`` and ``type_as(x)`` land on x's device on a GPU;
    ``.to`` onto the device a tensor is already on returns that very tensor."""
    assert watched(lambda g: g.to(g.device) * 2) is None
    assert watched(lambda g: torch.zeros(g.shape).to(g.device) + g) is None
    assert watched(lambda g: torch.zeros(g.shape).to(g) + g) is None
    assert watched(lambda g: torch.zeros(g.shape).type_as(g) + g) is None
    assert watched(lambda g: g.to(torch.zeros(3))) == DEFAULT_DEVICE
    assert watched(lambda g: g.to(g.cpu())) == MOVED_TO_CPU
    assert watched(lambda g: torch.zeros(g.shape).to(torch.float64)) == DEFAULT_DEVICE
    g = torch.ones(3)
    with DeviceWatch():
        same = g.detach().to(g.device)
    assert same.data_ptr() == g.data_ptr()


def test_a_gradient_moved_to_the_outputs_device_is_accepted() -> None:
    x = torch.ones(3, requires_grad=True)
    with DeviceWatch():
        y = x * 2
        y.backward(torch.ones(y.shape).to(y.device))
    assert torch.equal(x.grad, torch.full((3,), 2.0))


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


# torch.tensor(t) warns that t.detach().clone() is the way to copy a tensor
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_tensor_as_data_keeps_its_device() -> None:
    """torch.tensor(t), as_tensor(t) and asarray(t) without device= keep t's device."""
    for make in (torch.tensor, torch.as_tensor, torch.asarray):
        assert watched(lambda g, m=make: m(g.detach())) is None
        assert watched(lambda g, m=make: m(g.detach(), dtype=torch.float64) * g) is None
        assert watched(lambda g, m=make: m(g.detach().cpu())) == MOVED_TO_CPU
        assert watched(lambda g, m=make: m(torch.ones(3)) * g) == DEFAULT_DEVICE
        assert watched(lambda g, m=make: m([1.0, 2.0, 3.0]) * g) == DEFAULT_DEVICE
        assert (
            watched(lambda g, m=make: m(numpy.ones(3, dtype=numpy.float32)) * g) == DEFAULT_DEVICE
        )
    assert watched(lambda g: torch.tensor(data=g.detach())) is None
    assert watched(lambda g: torch.asarray(obj=g.detach())) is None
    assert watched(lambda g: torch.as_tensor(g.detach(), device="cpu")) == MOVED_TO_CPU
    g = torch.ones(3)
    with DeviceWatch() as watch:
        same = torch.as_tensor(g)  # g itself: it stays unmarked
    assert same is g and watch.why(g) is None


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_numpy_of_a_copy_made_from_a_tensor_still_on_the_gpu_fails() -> None:
    assert numpy_result(lambda g: torch.tensor(g).numpy()) == NUMPY_ON_GPU
    assert numpy_result(lambda g: torch.as_tensor(g.detach()).numpy()) == NUMPY_ON_GPU
    assert numpy_result(lambda g: torch.asarray(g.detach()).numpy()) == NUMPY_ON_GPU
    assert numpy_result(lambda g: torch.as_tensor(g.detach().cpu()).numpy()) == "ok"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_saving_copies_made_from_tensors_on_the_gpu_writes_a_gpu_location() -> None:
    gpu = ["cuda:0", "cuda:0"]
    assert saved_locations(lambda ps, f: torch.save([torch.tensor(p) for p in ps], f)) == gpu
    assert saved_locations(lambda ps, f: torch.save([torch.as_tensor(p) for p in ps], f)) == gpu


@pytest.fixture
def installed():  # type: ignore[no-untyped-def]
    """torch.from_numpy and torch.frombuffer wrapped, as in a worker; put back after."""
    saved = torch.from_numpy, torch.frombuffer
    devicewatch.install()
    yield
    torch.from_numpy, torch.frombuffer = saved


def test_from_numpy_and_frombuffer_make_cpu_tensors(installed) -> None:  # type: ignore[no-untyped-def]
    wrapped = torch.from_numpy
    devicewatch.install()  # twice: still one wrapper
    assert torch.from_numpy is wrapped and torch.from_numpy.__wrapped__ is not wrapped
    from_numpy = torch.from_numpy  # bound as a learner's `from torch import from_numpy` binds it
    assert watched(lambda g: from_numpy(g.detach().cpu().numpy())) == MADE_ON_CPU
    assert watched(lambda g: torch.from_numpy(numpy.ones(3)) * g) == MADE_ON_CPU
    assert watched(lambda g: torch.frombuffer(bytearray(8), dtype=torch.float32)) == MADE_ON_CPU
    assert numpy_result(lambda g: torch.from_numpy(g.numpy(force=True)).numpy()) == "ok"
    t = torch.from_numpy(numpy.ones(2))  # no watch: only calls through
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64


def test_saving_tensors_made_from_numpy_writes_cpu(installed) -> None:  # type: ignore[no-untyped-def]
    def save(ps, f):  # type: ignore[no-untyped-def]
        torch.save([torch.from_numpy(p.detach().cpu().numpy()) for p in ps], f)

    assert saved_locations(save) == ["cpu", "cpu"]


def backward_result(fn) -> str:  # type: ignore[no-untyped-def]
    """``ok`` or the RuntimeError's message, for ``fn(leaf, y)`` with ``y = leaf * 2``."""
    leaf = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    try:
        with DeviceWatch():
            y = leaf * 2
            fn(leaf, y)
    except RuntimeError as exc:
        return str(exc)
    return "ok"


CUDA_GRADIENT = "invalid gradient at index 0 - expected device cuda:0 but got cpu"


def test_a_cpu_gradient_for_an_output_on_the_gpu_fails_as_on_a_gpu() -> None:
    grad = torch.autograd.grad
    for fn in (
        lambda x, y: y.backward(torch.ones(y.shape, dtype=y.dtype)),
        lambda x, y: y.backward(gradient=torch.ones(2, 3)),
        lambda x, y: y.backward(torch.ones_like(y).cpu()),
        lambda x, y: torch.autograd.backward(y, torch.ones(2, 3)),
        lambda x, y: torch.autograd.backward([y], [torch.ones(2, 3)]),
        lambda x, y: grad(y, x, torch.ones(2, 3)),
        lambda x, y: grad(y, x, torch.ones(4, 2, 3), is_grads_batched=True),  # a batch of them
    ):
        assert backward_result(fn) == CUDA_GRADIENT
    second = backward_result(lambda x, y: grad([y.sum(), y], [x], [None, torch.ones(2, 3)]))
    assert second == CUDA_GRADIENT.replace("index 0", "index 1")


def test_gradients_on_the_outputs_device_or_0d_pass() -> None:
    grad = torch.autograd.grad
    twice = lambda t: t * 2  # noqa: E731
    for fn in (
        lambda x, y: y.backward(torch.ones_like(y)),
        lambda x, y: grad(y, x, torch.ones_like(y)),
        lambda x, y: y.sum().backward(torch.tensor(1.0)),  # 0-d: autograd moves it
        lambda x, y: y.sum().backward(),
        lambda x, y: y.cpu().backward(torch.ones(2, 3)),  # both on the CPU
        lambda x, y: torch.autograd.backward(y.sum()),
        lambda x, y: grad(y.sum(), x, torch.ones(4), is_grads_batched=True),  # a batch of 0-d
        lambda x, y: torch.autograd.functional.vjp(twice, x.detach(), torch.ones_like(y)),
        lambda x, y: torch.autograd.functional.jacobian(twice, x.detach()),
        lambda x, y: torch.func.vjp(twice, x.detach())[1](torch.ones_like(y)),
    ):
        assert backward_result(fn) == "ok"
