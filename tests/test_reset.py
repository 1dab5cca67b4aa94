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


def test_a_swapped_function_body_is_undone_when_nothing_guards_it() -> None:
    import grader.runner.observe as observe

    snap = Snapshot()
    assert not snap.functions_guarded
    code, defaults = observe.tensor_facts.__code__, observe.Recorder.__init__.__defaults__
    try:
        observe.tensor_facts.__code__ = (lambda t: {"kind": "forged"}).__code__
        observe.Recorder.__init__.__defaults__ = (True, None)
        snap.restore()
        assert observe.tensor_facts.__code__ is code
        assert observe.Recorder.__init__.__defaults__ is defaults
    finally:
        observe.tensor_facts.__code__ = code
        observe.Recorder.__init__.__defaults__ = defaults


GUARD_SCRIPT = """
import gc, sys
import grader.runner.observe as observe
from grader.runner.reset import Snapshot, block_audit_hooks

def mine0():
    pass
snap = Snapshot()
block_audit_hooks(snap)
refused = []
for attempt in (
    lambda: setattr(observe.tensor_facts, "__code__", (lambda t: {}).__code__),
    lambda: setattr(observe.Recorder.__init__, "__defaults__", (True, None)),
    lambda: setattr(observe.Recorder.call, "__kwdefaults__", {}),
):
    try:
        attempt()
    except RuntimeError:
        refused.append(True)
hooks = [
    f for f in gc.get_objects()
    if type(f) is type(mine0) and f.__name__ == "refuse" and f.__module__ == "grader.runner.reset"
]
for hook in hooks:  # the hook guards its own body and defaults
    try:
        hook.__defaults__ = (None, None, None, None)
    except RuntimeError:
        refused.append(True)
heard = []
sys.addaudithook(lambda event, args: heard.append(event))  # silently not added
compile("1", "<x>", "exec")
if not heard:
    refused.append(True)
def mine(x=1):
    return x
mine.__defaults__ = (2,)  # the learner's own functions stay theirs
print(len(refused), len(hooks), mine(), snap.functions_guarded)
"""


def test_the_audit_hook_refuses_to_change_guarded_functions_and_itself() -> None:
    """In a process of its own: an audit hook cannot be removed once installed."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", GUARD_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["5", "1", "2", "True"]
