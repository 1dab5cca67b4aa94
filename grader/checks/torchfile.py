"""Read a file written by ``torch.save`` without running anything in it.

Exercise 16's file comes from a learner's code, so it may hold a pickle that
runs code when it is unpickled. The grader's process never unpickles it: the
worker sends the file's bytes back as a plain ``uint8`` tensor, and this module
reads them here with a reader that cannot run code.

- The container is opened with ``zipfile`` (only stored entries, as torch writes
  them; a compressed entry is refused, so no zip bomb can inflate) or, for
  ``torch.save(..., _use_new_zipfile_serialization=False)``, read as torch's
  legacy stream of pickles followed by raw storages.
- The pickle is never given to ``pickle``: ``pickletools.genops`` only splits it
  into opcodes, and a small stack machine here follows them. A ``GLOBAL``
  becomes a name (nothing is imported), and a call (``REDUCE``) is carried out
  only for the few functions a saved tensor needs (``_rebuild_tensor_v2``/``v3``,
  ``_rebuild_parameter``, ``OrderedDict``, ``torch.Size``), by building the
  tensor here from the storage's raw bytes with ``torch.frombuffer`` and bounds-
  checked ``as_strided``. Any other call stays an ``Opaque`` name, the way
  ``torch.load(path, weights_only=True)`` would refuse it.

What comes back mirrors what ``torch.load(path, weights_only=True)`` returns on a
CPU-only machine: lists, tuples, dicts, numbers, strings and ``SavedTensor``s,
each with its values, dtype, shape, ``requires_grad``, whether it was saved as an
``nn.Parameter``, and the device location its storage was saved with (a
``cuda`` location cannot be loaded there without ``map_location``).
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from dataclasses import dataclass, field
from typing import Any

import torch

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # torch's legacy format
LEGACY_PROTOCOL = 1001
MAX_OPS = 200_000  # opcodes in one pickle
MAX_ELEMENTS = 1 << 22  # elements of one rebuilt tensor
MAX_TOTAL = 1 << 23  # elements of all rebuilt tensors together (many views of one buffer)
MAX_DIMS = 16

STORAGE_DTYPES: dict[str, torch.dtype] = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
DTYPES: dict[str, torch.dtype] = {
    str(d).removeprefix("torch."): d for d in set(STORAGE_DTYPES.values())
} | {"uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64}


class Unreadable(Exception):
    """The bytes are not a file torch.save writes (or not one this reader takes)."""


@dataclass(frozen=True)
class Global:
    """A name the pickle refers to; never imported."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Opaque:
    """An object that is not data: a call or class this reader does not carry out."""

    name: str


@dataclass(eq=False)
class Storage:
    key: str
    dtype: torch.dtype
    location: str
    numel: int  # elements of ``dtype`` (bytes for an untyped storage)
    untyped: bool = False
    raw: bytes | None = None


@dataclass(eq=False)
class SavedTensor:
    """One tensor as torch.load would rebuild it (values filled in once the
    storages are read)."""

    storage: Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    requires_grad: bool
    dtype: torch.dtype
    parameter: bool = False
    values: torch.Tensor = field(default_factory=lambda: torch.empty(0))

    @property
    def location(self) -> str:
        return self.storage.location

    @property
    def storage_bytes(self) -> int:
        return self.storage.numel * (1 if self.storage.untyped else _itemsize(self.dtype))

    @property
    def nbytes(self) -> int:
        n = 1
        for s in self.size:
            n *= s
        return n * _itemsize(self.dtype)


@dataclass
class Saved:
    obj: Any
    format: str  # "zip" or "legacy"
    storages: list[Storage]


def read(data: bytes) -> Saved:
    """What torch.load(weights_only=True) would return for ``data``, read without
    unpickling. Raises ``Unreadable`` with the reason."""
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            return _read_zip(data)
        return _read_legacy(data)
    except Unreadable:
        raise
    except Exception as exc:  # malformed bytes of any kind
        raise Unreadable(f"{type(exc).__name__}: {str(exc)[:120]}") from None


# -- containers -------------------------------------------------------------------


def _read_zip(data: bytes) -> Saved:
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
        raise Unreadable("a compressed zip entry (torch.save stores its entries)")
    if sum(i.file_size for i in infos) > len(data):
        raise Unreadable("zip entries larger than the file")
    pickles = [i.filename for i in infos if i.filename.endswith("/data.pkl")]
    if len(pickles) != 1 or pickles[0].count("/") != 1:
        raise Unreadable("no data.pkl record")
    prefix = pickles[0].removesuffix("data.pkl")
    names = set(archive.namelist())
    if f"{prefix}byteorder" in names and archive.read(f"{prefix}byteorder") != b"little":
        raise Unreadable("big-endian storages")
    machine = _Machine()
    obj = machine.run(io.BytesIO(archive.read(pickles[0])))
    for storage in machine.storages.values():
        name = f"{prefix}data/{storage.key}"
        if name not in names:
            raise Unreadable(f"storage {storage.key!r} is missing")
        storage.raw = archive.read(name)
    _fill(machine)
    return Saved(obj, "zip", list(machine.storages.values()))


def _read_legacy(data: bytes) -> Saved:
    stream = io.BytesIO(data)
    if _Machine().run(stream) != MAGIC_NUMBER:
        raise Unreadable("not a file torch.save writes")
    if _Machine().run(stream) != LEGACY_PROTOCOL:
        raise Unreadable("an unknown legacy protocol")
    info = _Machine().run(stream)
    if type(info) is not dict or info.get("little_endian") is not True:
        raise Unreadable("big-endian storages")
    machine = _Machine(legacy=True)
    obj = machine.run(stream)
    keys = _Machine().run(stream)
    if type(keys) is not list or sorted(keys) != sorted(machine.storages):
        raise Unreadable("the storage list does not match the pickle")
    for key in keys:
        storage = machine.storages[key]
        count = int.from_bytes(_exactly(stream, 8), "little", signed=True)
        if count != storage.numel or count < 0:
            raise Unreadable(f"storage {key!r} has the wrong size")
        size = 1 if storage.untyped else _itemsize(storage.dtype)
        storage.raw = _exactly(stream, count * size)
    _fill(machine)
    return Saved(obj, "legacy", list(machine.storages.values()))


def _exactly(stream: io.BytesIO, n: int) -> bytes:
    chunk = stream.read(n)
    if len(chunk) != n:
        raise Unreadable("the file ends too early")
    return chunk


def _fill(machine: _Machine) -> None:
    """Rebuild each tensor's values from its storage's raw bytes. A few bytes of
    pickle can name one storage many times over (or with stride 0), so the
    elements of all tensors together are capped too, and each storage is read once."""
    total = 0
    flats: dict[tuple[int, torch.dtype], torch.Tensor] = {}
    for t in machine.tensors:
        raw = t.storage.raw or b""
        if len(raw) != t.storage_bytes:
            raise Unreadable(f"storage {t.storage.key!r} holds {len(raw)} bytes")
        size = _itemsize(t.dtype)
        count = len(raw) // size
        if any(n < 0 for n in t.size) or any(s < 0 for s in t.stride) or t.offset < 0:
            raise Unreadable("a negative size, stride or offset")
        numel = 1
        for n in t.size:
            numel *= n
        total += numel
        if numel > MAX_ELEMENTS or total > MAX_TOTAL:
            raise Unreadable("tensors too large to check")
        last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride, strict=True))
        if numel and last >= count:
            raise Unreadable("a tensor reaches past its storage")
        flat = flats.get((id(t.storage), t.dtype))
        if flat is None or flat.dtype != t.dtype:
            flat = (
                torch.frombuffer(bytearray(raw), dtype=t.dtype)
                if raw
                else torch.empty(0, dtype=t.dtype)
            )
            flats[(id(t.storage), t.dtype)] = flat
        if numel == 0:
            t.values = torch.empty(t.size, dtype=t.dtype)
        else:
            t.values = flat.as_strided(t.size, t.stride, t.offset).clone()


# -- the pickle, as a stack machine that runs nothing ---------------------------------


class _Machine:
    def __init__(self, *, legacy: bool = False) -> None:
        self.legacy = legacy
        self.storages: dict[str, Storage] = {}
        self.tensors: list[SavedTensor] = []

    def run(self, stream: io.BytesIO) -> Any:
        stack: list[Any] = []
        marks: list[int] = []
        memo: dict[int, Any] = {}
        for count, (op, arg, _pos) in enumerate(pickletools.genops(stream)):
            name = op.name
            if count > MAX_OPS:
                raise Unreadable("a pickle too long to check")
            if name not in OPCODES:  # what torch.load(weights_only=True) cannot read either
                raise Unreadable(
                    f"pickle opcode {name}, which torch.load(weights_only=True) refuses"
                )
            if name == "PROTO":
                continue
            if name == "STOP":
                if len(stack) != 1 or marks:
                    raise Unreadable("a malformed pickle")
                return stack.pop()
            if name == "MARK":
                marks.append(len(stack))
            elif name in _CONSTANTS:
                stack.append(_CONSTANTS[name])
            elif name in ("BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT"):
                stack.append(arg)
            elif name in ("BINUNICODE", "SHORT_BINSTRING"):
                stack.append(str(arg))
            elif name in ("BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET"):
                stack.append(memo[int(arg)])
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_SET":
                stack.append(set())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise Unreadable("a malformed pickle")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(_since(stack, marks)))
            elif name == "APPEND":
                item = stack.pop()
                _as(stack[-1], list).append(item)
            elif name == "APPENDS":
                items = _since(stack, marks)
                _as(stack[-1], list).extend(items)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                _as(stack[-1], dict)[_key(key)] = value
            elif name == "SETITEMS":
                items = _since(stack, marks)
                if len(items) % 2:
                    raise Unreadable("a malformed dict")
                target = _as(stack[-1], dict)
                for i in range(0, len(items), 2):
                    target[_key(items[i])] = items[i + 1]
            elif name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                stack.append(Global(module, attr))
            elif name == "REDUCE":
                args = stack.pop()
                stack.append(self._call(stack.pop(), args))
            elif name == "BUILD":
                state = stack.pop()
                stack.append(_build(stack.pop(), state))
            elif name == "NEWOBJ":
                stack.pop()
                stack.append(Opaque(str(stack.pop())))
            elif name == "BINPERSID":
                stack.append(self._storage(stack.pop()))
        raise Unreadable("a pickle without STOP")

    def _storage(self, pid: Any) -> Storage:
        size = 6 if self.legacy else 5
        if type(pid) is not tuple or len(pid) != size or pid[0] != "storage":
            raise Unreadable("a persistent id that is not a storage")
        kind, key, location, numel = pid[1], pid[2], pid[3], pid[4]
        untyped = kind in (
            Global("torch.storage", "UntypedStorage"),
            Global("torch", "UntypedStorage"),
        )
        if (
            type(kind) is not Global
            or not untyped
            and (kind.module != "torch" or kind.name not in STORAGE_DTYPES)
        ):
            raise Unreadable(f"storage type {kind}")
        if type(key) is not str or type(location) is not str or type(numel) is not int:
            raise Unreadable("a malformed storage id")
        if key in self.storages:
            return self.storages[key]
        dtype = torch.uint8 if untyped else STORAGE_DTYPES[kind.name]
        storage = Storage(key, dtype, location, numel, untyped)
        self.storages[key] = storage
        return storage

    def _call(self, fn: Any, args: Any) -> Any:
        if type(fn) is not Global or type(args) is not tuple:
            return Opaque(str(fn))
        where = str(fn)
        if where in ("torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3"):
            return self._tensor(where.endswith("v3"), args)
        if where in (
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
        ):
            data, requires_grad = (args + (None, None))[:2]
            if type(data) is not SavedTensor or type(requires_grad) is not bool:
                raise Unreadable("a malformed parameter")
            data.parameter = True
            data.requires_grad = requires_grad
            return data
        if where == "collections.OrderedDict" and not args:
            return {}
        if where == "torch.Size" and len(args) == 1 and type(args[0]) is tuple:
            return tuple(args[0])
        return Opaque(where)

    def _tensor(self, v3: bool, args: tuple) -> SavedTensor:
        if len(args) < (7 if v3 else 6):
            raise Unreadable("a malformed tensor")
        storage, offset, size, stride, requires_grad = args[:5]
        if type(storage) is not Storage:
            raise Unreadable("a tensor without a storage")
        dtype = storage.dtype
        if v3:
            name = args[6]
            if type(name) is not Global or name.module != "torch" or name.name not in DTYPES:
                raise Unreadable(f"dtype {name}")
            dtype = DTYPES[name.name]
        if (
            type(offset) is not int
            or type(size) is not tuple
            or type(stride) is not tuple
            or len(size) != len(stride)
            or len(size) > MAX_DIMS
            or not all(type(n) is int for n in (*size, *stride))
            or type(requires_grad) is not bool
        ):
            raise Unreadable("a malformed tensor")
        if storage.untyped != v3:
            raise Unreadable("a storage of the wrong kind")
        t = SavedTensor(storage, offset, size, stride, requires_grad, dtype)
        self.tensors.append(t)
        return t


# The opcodes torch's weights-only unpickler reads (torch/_weights_only_unpickler.py):
# protocol 2, as torch.save writes by default. Protocol 4's FRAME, MEMOIZE and
# SHORT_BINUNICODE are refused there, so they are refused here too.
OPCODES = frozenset(
    (
        "PROTO STOP MARK GLOBAL NEWOBJ REDUCE BUILD APPEND APPENDS SETITEM SETITEMS "
        "TUPLE TUPLE1 TUPLE2 TUPLE3 NONE NEWFALSE NEWTRUE EMPTY_TUPLE EMPTY_LIST "
        "EMPTY_DICT EMPTY_SET BININT BININT1 BININT2 BINFLOAT BINUNICODE "
        "SHORT_BINSTRING BINPERSID BINGET LONG_BINGET BINPUT LONG_BINPUT LONG1"
    ).split()
)
_CONSTANTS: dict[str, Any] = {
    "NONE": None,
    "NEWTRUE": True,
    "NEWFALSE": False,
    "EMPTY_TUPLE": (),
}


def _since(stack: list[Any], marks: list[int]) -> list[Any]:
    """The items pushed since the last MARK, taken off the stack."""
    if not marks:
        raise Unreadable("a malformed pickle")
    start = marks.pop()
    items = stack[start:]
    del stack[start:]
    return items


def _as(obj: Any, kind: type) -> Any:
    if type(obj) is not kind:
        raise Unreadable(f"items added to a {type(obj).__name__}")
    return obj


def _key(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        raise Unreadable("an unhashable dict key") from None
    return key


def _build(obj: Any, state: Any) -> Any:
    """``BUILD``: setting an object's state. A tensor or dict with no state to set
    stays as it is; anything else is not plain data."""
    if state in (None, {}) or (type(state) is tuple and all(s in (None, {}) for s in state)):
        return obj
    return Opaque(f"{type(obj).__name__} with state")


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()
