"""Hidden checks for exercise 16: ``save_weights(params, path)``: weights that a
CPU-only machine can load with ``torch.load(path, weights_only=True)``.

Kinds every run covers: params that are offset views into one flat buffer much
larger than they are (a flat parameter store, where saving a view saves the
whole buffer), params with storages of their own, and a list mixing both; 0-d,
size-1 and larger params; contiguous, transposed, stepped and offset ones;
float32, float64 and a list mixing them; params holding a ``.grad`` (which must
stay) and none; a list of one; gradient recording on and off. Every param is a
leaf that requires grad.

**Where the grading device shows.** The file must load on a CPU-only machine, so
a storage saved with a GPU location fails, on any grading device: on a GPU the
location is really there; on a CPU-only machine the device watch
(``grader.runner.devicewatch``) writes ``cuda:0`` for storages of tensors that
would still be on the GPU. One case is pinned to the CPU and runs without the
watch, on every grading device: there ``.cpu()`` copies nothing, so a view saved
with ``.detach().cpu()`` brings its whole buffer along, as it does for a learner
whose parameters live on the CPU.

**The file is never unpickled by the grader.** The probe, in the sandboxed
worker, opens ``path`` without following links, reads at most ``MAX_BYTES`` of a
regular file and sends the bytes back as a ``uint8`` tensor. The checks read them
with ``grader.checks.torchfile``, which parses the zip (or legacy) container and
walks the pickle's opcodes with ``pickletools.genops`` without executing any:
globals stay names, and only the calls that rebuild a tensor are carried out,
from the storages' raw bytes. A pickle that would run code is reported as
holding something that is not a tensor.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from typing import Any

import torch

from grader.cases import Case
from grader.checks import expect, show, torchfile
from grader.checks.draw import F32, F64, Draw
from grader.checks.run import CheckFailed, ExerciseRun, per_case, weight
from grader.layout import CONTIGUOUS, OFFSET, STEPPED, TRANSPOSED
from grader.messages import message
from grader.runner.execute import Observation
from grader.runner.observe import Recorder, grad_of, storage_ptr

# Bound before any learner code runs (the worker imports the checks first).
_mkdtemp = tempfile.mkdtemp
_rmtree = shutil.rmtree
_os_open, _os_read, _os_close, _os_fstat = os.open, os.read, os.close, os.fstat
_join = os.path.join
_S_ISREG = stat.S_ISREG
_frombuffer = torch.frombuffer
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

STORE = 8192  # elements in the flat buffer: 32 KiB in float32, twice the slack
MAX_BYTES = 1 << 20  # bytes of the file sent back; a larger file is too large anyway
SLACK = 16 * 1024


def limit(weight_bytes: int) -> int:
    """The largest file that holds only the weights."""
    return int(1.5 * weight_bytes) + SLACK


@dataclass(frozen=True)
class P:
    shape: str
    dtype: torch.dtype
    store: bool = False  # a view into the case's flat buffer
    layout: str = CONTIGUOUS  # params with a storage of their own
    stale: bool = False


@dataclass(frozen=True)
class Row:
    params: tuple[P, ...]
    cpu: bool = False  # pinned to the CPU, run without the device watch
    grad_mode: bool = True


PLAN = (
    Row(
        (
            P("large", F32, store=True, stale=True),
            P("0-d", F32, store=True),
            P("size-1", F32, store=True),
        )
    ),
    Row((P("large", F64, layout=TRANSPOSED, stale=True), P("0-d", F64))),
    Row((P("large", F64, store=True), P("size-1", F64, store=True, stale=True)), cpu=True),
    Row((P("size-1", F32, store=True), P("large", F32, layout=OFFSET)), grad_mode=False),
    Row((P("large", F32, layout=STEPPED), P("0-d", F64, layout=OFFSET, stale=True))),
    Row((P("large", F32, store=True),)),
)


def draw_cases(draw: Draw) -> list[Case]:
    return [_case(draw, row) for row in PLAN]


def _case(draw: Draw, row: Row) -> Case:
    tensors: dict[str, torch.Tensor] = {}
    layouts: dict[str, str] = {}
    at: dict[str, int] = {}
    end = 0
    for i, spec in enumerate(row.params):
        name = f"p{i}"
        shape = draw.shape(spec.shape, layout=spec.layout)
        tensors[name] = draw.uniform(shape, spec.dtype)
        if spec.stale:
            tensors[f"{name}.grad"] = draw.uniform(shape, spec.dtype, -1.0, 1.0)
        if spec.store:
            at[name] = end + draw.integer(1, 600)  # an offset view, with a gap before it
            end = at[name] + tensors[name].numel()
        elif spec.layout != CONTIGUOUS:
            layouts[name] = spec.layout
    meta: dict[str, Any] = {
        "n_p": len(row.params),
        "requires_grad": list(f"p{i}" for i in range(len(row.params))),
        "grad_mode": row.grad_mode,
    }
    if at:
        meta["store"] = {"numel": STORE, "at": at}
    if layouts:
        meta["layout"] = layouts
    if row.cpu:
        meta["device"] = "cpu"
        meta["watch_device"] = False
        tensors = {k: v.cpu() for k, v in tensors.items()}
    return Case(tensors, meta)


def build_params(case: Case) -> tuple[list[torch.Tensor], torch.Tensor | None]:
    """The params of a materialized case, as the learner receives them, and the flat
    buffer the stored ones are views into (None when there is none)."""
    names = [f"p{i}" for i in range(int(case.meta["n_p"]))]
    store_meta = case.meta.get("store")
    store = None
    if store_meta:
        first = case.tensors[next(iter(store_meta["at"]))]
        store = torch.full((int(store_meta["numel"]),), float("nan"), dtype=first.dtype)
        store = store.to(first.device)
    params = []
    for name in names:
        live = case.tensors[name]
        if store is None or name not in store_meta["at"]:
            params.append(live)
            continue
        start = int(store_meta["at"][name])
        span = store[start : start + live.numel()]
        span.copy_(live.detach().reshape(-1))
        p = span.view(live.shape).detach().requires_grad_(True)
        if live.grad is not None:
            p.grad = live.grad
        params.append(p)
    return params, store


def probe(fn, case: Case, rec: Recorder) -> None:
    params, store = build_params(case)
    folder = _mkdtemp(prefix="save_weights-")
    try:
        rec.call(fn, list(params), _join(folder, "weights.pt"))
        _record_file(rec, _join(folder, "weights.pt"))
    finally:
        _rmtree(folder, ignore_errors=True)
    for i, p in enumerate(params):
        rec.tensor(f"p{i}_after", p)
        rec.tensor(f"p{i}.grad", grad_of(p))
        if store is not None and f"p{i}" in case.meta["store"]["at"]:
            rec.fact(f"p{i}_in_store", storage_ptr(p) == storage_ptr(store))


def _record_file(rec: Recorder, path: str) -> None:
    """The file's bytes (at most MAX_BYTES + 1) as a uint8 tensor: never unpickled here."""
    try:
        fd = _os_open(path, _OPEN_FLAGS)
    except OSError:
        rec.fact("file", {"kind": "missing"})
        return
    try:
        info = _os_fstat(fd)
        if not _S_ISREG(info.st_mode):
            rec.fact("file", {"kind": "not_regular"})
            return
        chunks, got = [], 0
        while got <= MAX_BYTES:
            chunk = _os_read(fd, MAX_BYTES + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        _os_close(fd)
    data = b"".join(chunks)
    rec.fact("file", {"kind": "file", "size": max(int(info.st_size), len(data))})
    if data and len(data) <= MAX_BYTES:
        rec.tensors["file"] = _frombuffer(bytearray(data), dtype=torch.uint8)


# -- reading what came back --------------------------------------------------------------


def params_of(case: Case) -> list[torch.Tensor]:
    return [case.tensors[f"p{i}"] for i in range(int(case.meta["n_p"]))]


@per_case
def weight_bytes(case: Case) -> int:
    return sum(p.numel() * p.element_size() for p in params_of(case))


def loaded(case: Case, obs: Observation) -> torchfile.Saved:
    """What torch.load(path, weights_only=True) would give, or the values failure."""
    facts = obs.facts.get("file", {})
    kind = facts.get("kind")
    if kind == "missing":
        raise CheckFailed(message("values.no_file"))
    if kind != "file":
        raise CheckFailed(message("values.not_a_file"))
    size = int(facts.get("size", 0))
    if size > MAX_BYTES or "file" not in obs.tensors:
        if size == 0:
            raise CheckFailed(message("values.unreadable_file", why="the file is empty"))
        raise CheckFailed(
            message("values.file_too_large", size=_kib(size), limit=_kib(limit(weight_bytes(case))))
        )
    try:
        return torchfile.read(obs.tensors["file"].numpy().tobytes())
    except torchfile.Unreadable as exc:
        raise CheckFailed(message("values.unreadable_file", why=str(exc))) from None


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def _items(saved: torchfile.Saved, case: Case) -> list[torchfile.SavedTensor]:
    obj = saved.obj
    n = int(case.meta["n_p"])
    if type(obj) is dict:
        raise CheckFailed(
            message("values.saved_not_list", type="dict").plus(message("diag.saved_dict"))
        )
    if type(obj) is torchfile.SavedTensor:
        raise CheckFailed(
            message("values.saved_not_list", type="tensor").plus(message("diag.saved_one_tensor"))
        )
    if type(obj) not in (list, tuple):
        raise CheckFailed(message("values.saved_not_list", type=_kind(obj)))
    for item in obj:
        if type(item) is not torchfile.SavedTensor:
            said = message("values.saved_not_tensor", type=_kind(item))
            if type(item) is torchfile.Opaque:
                said = said.plus(message("diag.saved_objects"))
            raise CheckFailed(said)
    if len(obj) != n:
        raise CheckFailed(message("values.saved_length", n=n, got=len(obj)))
    return list(obj)


def _kind(obj: Any) -> str:
    if type(obj) is torchfile.Opaque:
        return obj.name
    if type(obj) is torchfile.SavedTensor:
        return "tensor"
    return type(obj).__name__


@weight(6)
def test_values(run: ExerciseRun) -> None:
    for case, obs in run.each():
        saved = loaded(case, obs)
        items = _items(saved, case)
        if any(item.location != "cpu" for item in items):
            where = next(item.location for item in items if item.location != "cpu")
            raise CheckFailed(message("values.saved_on_gpu", location=where))
        for i, (item, want) in enumerate(zip(items, params_of(case), strict=True)):
            expect.values(
                item.values,
                want,
                where=f"params[{i}]: shape {show.shape(want.shape)}, {show.dtype(want.dtype)}",
                dtype=want.dtype,
                gradient=False,
            )
        size, most = int(obs.facts["file"]["size"]), limit(weight_bytes(case))
        if size > most:
            said = message("values.file_too_large", size=_kib(size), limit=_kib(most))
            if any(item.storage_bytes > 1.5 * max(item.nbytes, 1) for item in items):
                said = said.plus(message("diag.saved_whole_storage"))
            raise CheckFailed(said)


@weight(2)
def test_type(run: ExerciseRun) -> None:
    for case, obs in run.each():
        saved = loaded(case, obs)
        items = _items(saved, case)
        if type(saved.obj) is not list:
            raise CheckFailed(message("type.saved_tuple", type=type(saved.obj).__name__))
        for i, (item, want) in enumerate(zip(items, params_of(case), strict=True)):
            what = f"params[{i}] as loaded"
            if item.parameter:
                raise CheckFailed(message("type.saved_parameter", what=what))
            if tuple(item.values.shape) != tuple(want.shape):
                raise CheckFailed(
                    message(
                        "type.shape",
                        what=what,
                        expected=show.shape(want.shape),
                        got=show.shape(item.values.shape),
                    )
                )
            if item.dtype != want.dtype:
                raise CheckFailed(
                    message(
                        "type.dtype",
                        what=what,
                        expected=show.dtype(want.dtype),
                        got=show.dtype(item.dtype),
                    )
                )


@weight(2)
def test_side_effects(run: ExerciseRun) -> None:
    for case, obs in run.each():
        items = _items(loaded(case, obs), case)
        if any(item.requires_grad for item in items):
            raise CheckFailed(message("side.saved_requires_grad"))
        for i, want in enumerate(params_of(case)):
            facts = obs.facts.get(f"p{i}_after", {})
            after = obs.tensors.get(f"p{i}_after")
            same = (
                after is not None and after.shape == want.shape and torch.equal(after, want.cpu())
            )
            in_store = obs.facts.get(f"p{i}_in_store", True)
            if not (same and facts.get("requires_grad") and facts.get("is_leaf") and in_store):
                raise CheckFailed(message("side.params_changed", i=i))
            expect.grad_left_alone(case, obs, f"p{i}")
    expect.grad_mode_kept(run)
