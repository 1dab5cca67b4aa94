"""The worker's restore undoes patches, also when it skips dicts nobody touched."""

from __future__ import annotations

import sys

import torch

from grader.runner.reset import Snapshot, _no_version


def test_restore_undoes_patches_before_and_after_an_untouched_round() -> None:
    snap = Snapshot()
    if sys.implementation.name == "cpython" and (3, 10) <= sys.version_info[:2] <= (3, 13):
        assert snap._version is not _no_version  # the fast path is really exercised
    equal, backward = torch.equal, torch.Tensor.backward
    try:
        torch.equal = lambda *_: True
        torch.Tensor.backward = lambda *_, **__: None
        snap.restore()
        assert torch.equal is equal and torch.Tensor.backward is backward
        snap.restore()  # nothing changed since: skipped dicts stay right
        assert torch.equal is equal and torch.Tensor.backward is backward
        torch.equal = lambda *_: True  # a patch after a skipped round is still seen
        del torch.Tensor.backward
        snap.restore()
        assert torch.equal is equal and torch.Tensor.backward is backward
    finally:
        torch.equal = equal
        torch.Tensor.backward = backward
