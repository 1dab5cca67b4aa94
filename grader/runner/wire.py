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


def encode(tensors: dict[str, Tensor], doc: dict[str, Any]) -> bytes:
    """Pack tensors (moved to the CPU) and a JSON document into one message.
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
