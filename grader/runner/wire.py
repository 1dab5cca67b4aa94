"""The only format that crosses between the grader and a learner's process.

A message is a safetensors blob: named tensors plus one JSON document in the
header's metadata. Nothing in it can run code when read, and the reader caps its
size and accepts only plain, finite-sized tensors.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import torch
from safetensors.torch import load as _load_tensors
from safetensors.torch import save as _save_tensors
from torch import Tensor

_META_KEY = "json"


class WireError(ValueError):
    """A message that is not a well-formed grader message."""


# safetensors' names for the dtypes a grader message holds
_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


PLAIN_DTYPES = frozenset(_DTYPES)  # what a message carries without the library's writer


def encode(tensors: dict[str, Tensor], doc: dict[str, Any]) -> bytes:
    """Pack tensors (moved to the CPU) and a JSON document into one safetensors
    message. Written directly: a worker sends one per case, and the library's
    general writer (which looks for shared storages, sorts, aligns) cost more than
    the grading itself. Every tensor's bytes are a copy, laid out one after the
    other; ``decode`` reads the result with the safetensors library itself."""
    header: dict[str, Any] = {"__metadata__": {_META_KEY: json.dumps(doc)}}
    chunks: list[bytes] = []
    offset = 0
    for key, t in tensors.items():
        t = t.detach()
        if t.device.type != "cpu":
            t = t.to("cpu")
        code = _DTYPES.get(t.dtype)
        if code is None:
            return _encode_with_library(tensors, doc)
        data = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[key] = {
            "dtype": code,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned, as the format has it
    return struct.pack("<Q", len(raw)) + raw + b"".join(chunks)


def _encode_with_library(tensors: dict[str, Tensor], doc: dict[str, Any]) -> bytes:
    """The safetensors library's writer, for a dtype the direct one does not know.
    Tensors that share memory are copied apart (safetensors refuses shared ones)."""
    plain: dict[str, Tensor] = {}
    seen: set[int] = set()
    for key, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen and t.numel():
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        plain[key] = t
    return _save_tensors(plain, metadata={_META_KEY: json.dumps(doc)})


def decode(blob: bytes, *, max_bytes: int = 256 << 20) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Unpack a message, refusing anything malformed or larger than ``max_bytes``."""
    if len(blob) > max_bytes:
        raise WireError(f"message of {len(blob)} bytes exceeds {max_bytes}")
    if len(blob) < 8:
        raise WireError("message too short")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > len(blob) - 8:
        raise WireError("header length out of range")
    try:
        header = json.loads(blob[8 : 8 + header_len])
        doc = json.loads(header.get("__metadata__", {}).get(_META_KEY, "{}"))
        tensors = _load_tensors(blob)
    except Exception as exc:  # safetensors raises several exception types
        raise WireError(f"unreadable message: {exc}") from None
    if not isinstance(doc, dict):
        raise WireError("metadata is not an object")
    for name, t in tensors.items():
        if type(t) is not torch.Tensor:
            raise WireError(f"{name}: not a plain tensor")
    return tensors, doc
