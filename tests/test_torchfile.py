"""The reader of exercise 16's files (grader/checks/torchfile.py) agrees with
``torch.load(weights_only=True)`` on what torch.save writes, and runs nothing:
a file whose pickle would run code when unpickled is read as a name."""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.checks import torchfile


def saved(obj: Any, **kwargs: Any) -> bytes:
    file = io.BytesIO()
    torch.save(obj, file, **kwargs)
    return file.getvalue()


def plain(obj: Any) -> Any:
    """What was read, as comparable data (tensors as values, dtype, grad, type)."""
    if isinstance(obj, torchfile.SavedTensor):
        kind = "Parameter" if obj.parameter else "Tensor"
        return (kind, obj.values.tolist(), obj.dtype, tuple(obj.values.shape), obj.requires_grad)
    if isinstance(obj, torch.Tensor):
        kind = type(obj).__name__
        return (kind, obj.tolist(), obj.dtype, tuple(obj.shape), obj.requires_grad)
    if isinstance(obj, list | tuple):
        return type(obj).__name__, [plain(o) for o in obj]
    if isinstance(obj, dict):
        return "dict", {k: plain(v) for k, v in obj.items()}
    return obj


BUFFER = torch.arange(24, dtype=torch.float64)
VIEW = BUFFER[3:9].view(2, 3).detach().requires_grad_()
CASES = {
    "views into one buffer": [VIEW.detach(), VIEW.detach().t(), VIEW.detach()[1, 2], VIEW],
    "compact copies": [VIEW.detach().clone(), torch.tensor(2.5), torch.zeros(0)],
    "float32 and 0-d": [torch.linspace(-1, 1, 5), torch.tensor(-0.25, dtype=torch.float64)],
    "a tuple": (VIEW.detach().clone(),),
    "a dict": {"w": VIEW.detach(), "b": torch.ones(2)},
    "an OrderedDict": collections.OrderedDict(w=VIEW.detach()),
    "a Parameter": [torch.nn.Parameter(VIEW.detach().clone())],
    "numbers and strings": [1, 2.5, "x", None, True, (3, 4)],
    "nested": [[VIEW.detach()], {"k": (torch.ones(1),)}],
    "a newer dtype": [torch.ones(3, dtype=torch.uint16), torch.ones(2, dtype=torch.bfloat16)],
}


# torch's own legacy loader fails on the newer dtypes, so they are read as zip only
@pytest.mark.parametrize(
    ("name", "legacy"), [(n, False) for n in CASES] + [(n, True) for n in CASES if "newer" not in n]
)
def test_reads_what_torch_load_reads(name: str, legacy: bool) -> None:
    obj = CASES[name]
    data = saved(obj, _use_new_zipfile_serialization=not legacy)
    want = torch.load(io.BytesIO(data), weights_only=True)  # our own file: trusted
    got = torchfile.read(data)
    assert plain(got.obj) == plain(want)
    assert got.format == ("legacy" if legacy else "zip")


def test_storages_are_reported_whole() -> None:
    """A saved view brings its whole storage, which the reader reports."""
    got = torchfile.read(saved([VIEW.detach(), VIEW.detach().clone()])).obj
    assert got[0].storage_bytes == 24 * 8 and got[0].nbytes == 6 * 8
    assert got[1].storage_bytes == got[1].nbytes == 6 * 8
    assert all(t.location == "cpu" for t in got)


def test_many_huge_views_of_a_tiny_storage_are_refused() -> None:
    """A file of a few hundred bytes can name one 8-byte storage as many tensors of
    millions of elements (stride 0): reading it must not cost gigabytes."""
    one = torch.ones(1, dtype=torch.float64)
    views = [one.expand(torchfile.MAX_ELEMENTS) for _ in range(3)]  # each within the cap
    data = saved(views)
    assert len(data) < 4096
    assert len(torch.load(io.BytesIO(data), weights_only=True)) == 3  # torch reads it
    with pytest.raises(torchfile.Unreadable, match="too large"):
        torchfile.read(data)


def test_many_views_of_one_buffer_are_read_once_each() -> None:
    buffer = torch.arange(8000, dtype=torch.float32)
    views = [buffer[i : i + 10] for i in range(0, 8000, 10)]
    got = torchfile.read(saved(views)).obj
    assert len(got) == 800
    assert all(torch.equal(g.values, v) for g, v in zip(got, views, strict=True))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol 4")
def test_refuses_what_torch_load_refuses() -> None:
    data = saved([torch.ones(2)], pickle_protocol=4)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(data), weights_only=True)
    with pytest.raises(torchfile.Unreadable, match="FRAME"):
        torchfile.read(data)
    for junk in (b"", b"not a file", data[: len(data) // 2], os.urandom(300)):
        with pytest.raises(torchfile.Unreadable):
            torchfile.read(junk)


def test_a_compressed_entry_is_refused() -> None:
    data = saved([torch.zeros(1000)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(torchfile.Unreadable, match="compressed"):
        torchfile.read(out.getvalue())


class Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_would_run_code_is_read_as_a_name(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    hostile = [
        saved([Payload(marker)]),  # through torch.save
        saved([torch.ones(2), {"x": Payload(marker)}], _use_new_zipfile_serialization=False),
        pickle.dumps(Payload(marker), protocol=2),  # a bare pickle
    ]
    # a torch.save zip whose data.pkl was swapped for the payload
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(hostile[0])) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("data.pkl"):
                body = pickle.dumps([Payload(marker)], protocol=2)
            dst.writestr(info, body)
    hostile.append(out.getvalue())
    names = []
    for data in hostile:
        try:
            names.append(plain(torchfile.read(data).obj))
        except torchfile.Unreadable as exc:
            names.append(str(exc))
    assert not marker.exists(), names
    opened = ("list", [torchfile.Opaque(f"{open.__module__}.open")])  # io.open
    assert names[0] == names[3] == opened
    assert names[1] == (
        "list",
        [plain(torchfile.read(saved(torch.ones(2))).obj), ("dict", {"x": opened[1][0]})],
    )
    assert "not a file torch.save writes" in names[2]


def test_cycles_and_shared_objects_are_plain_references() -> None:
    loop: list[Any] = []
    loop.append(loop)
    got = torchfile.read(saved(loop)).obj
    assert got[0] is got
