"""Grade chunks of a batch in forked processes, a few at a time, on this machine.

Each chunk gets a fresh process forked from this one (torch and the checks are
already imported, so it starts in milliseconds). The child grades its chunk
with ``grade_chunk`` and sends the results back through a pipe. Whatever
happens to a child (it crashes, is killed, hangs past its deadline) is that
chunk's outcome only: the parent records it and goes on with the others.

The results are pickled: the child is the grader's own code (learners' code
runs further down, in sandboxed workers that cannot reach this pipe).
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import selectors
import signal
import struct
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

from grader.classroom.batch import Partial
from grader.grading import Settings
from grader.registry import Exercise
from grader.results import SubmissionResult
from grader.submission import Submission

_HEADER = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1


class ChunkFailed(Exception):
    """A chunk's process ended without sending its results."""


@dataclass
class _Child:
    index: int
    pid: int
    fd: int
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    final: tuple[str, object] | None = None  # the closing frame: ("ok", results) or ("error", why)


def chunk_deadline(size: int, exercises: int, settings: Settings) -> float:
    """Seconds a chunk may take before its process counts as hung: every run
    timing out one after another, plus room for start-up and the checks."""
    return 30.0 + size * exercises * (settings.limits.timeout + 1.0)


@dataclass
class ForkRunner:
    """``ChunkRunner`` on this machine: up to ``jobs`` chunk processes at once."""

    jobs: int
    name: str = "local"

    def run(
        self,
        chunks: list[list[Submission]],
        exercises: tuple[Exercise, ...],
        settings: Settings,
        on_partial: Partial | None = None,
    ) -> Iterator[tuple[int, list[SubmissionResult] | Exception]]:
        pending = list(range(len(chunks)))
        running: dict[int, _Child] = {}
        sel = selectors.DefaultSelector()
        try:
            while pending or running:
                while pending and len(running) < max(1, self.jobs):
                    index = pending.pop(0)
                    limit = chunk_deadline(len(chunks[index]), len(exercises), settings)
                    child = _fork_chunk(index, chunks[index], exercises, settings, limit)
                    running[child.fd] = child
                    sel.register(child.fd, selectors.EVENT_READ)
                wait = min(c.deadline for c in running.values()) - time.monotonic()
                for key, _ in sel.select(timeout=max(0.0, min(wait, 1.0))):
                    child = running[key.fd]
                    chunk = os.read(child.fd, 1 << 20)
                    if chunk:
                        child.data += chunk
                        for count in _progress_frames(child):
                            if on_partial:
                                on_partial(child.index, count)
                        continue
                    sel.unregister(child.fd)
                    del running[child.fd]
                    yield child.index, _finish(child)
                now = time.monotonic()
                for child in [c for c in running.values() if c.deadline < now]:
                    sel.unregister(child.fd)
                    del running[child.fd]
                    _kill(child.pid)
                    _finish(child)
                    yield child.index, ChunkFailed("grading took too long and was stopped")
        finally:
            for child in running.values():
                _kill(child.pid)
                _finish(child)
            sel.close()


def run_in_child(
    chunk: list[Submission], exercises: tuple[Exercise, ...], settings: Settings
) -> list[SubmissionResult]:
    """Grade one chunk in a forked process and wait for it (used by Dask tasks, so
    that two tasks of one worker never share a pytest session or a sandbox)."""
    runner = ForkRunner(jobs=1)
    for _, outcome in runner.run([chunk], exercises, settings):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    raise ChunkFailed("no result")


def _fork_chunk(
    index: int,
    chunk: list[Submission],
    exercises: tuple[Exercise, ...],
    settings: Settings,
    limit: float,
) -> _Child:
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the chunk's process
        code = 0
        try:
            os.close(read_fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
            _die_with(parent)
            _grade_and_send(write_fd, chunk, exercises, settings)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return _Child(index, pid, read_fd, time.monotonic() + limit)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the batch process ends, however it
    ends (its sandbox's zygote then stops every worker)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: a stopped batch leaves its chunks to finish on their own
    if os.getppid() != parent:  # it ended before the request took effect
        os._exit(1)


def _grade_and_send(
    fd: int, chunk: list[Submission], exercises: tuple[Exercise, ...], settings: Settings
) -> None:
    import torch

    from grader.classroom.batch import grade_chunk

    torch.set_num_threads(1)  # chunk processes share the cores; tensors here are tiny
    # What this process inherited (torch, the checks) lives as long as it does: out
    # of the collector's way, its pages are neither scanned again nor copied.
    gc.freeze()
    per_submission = max(1, len(exercises))
    sent = 0

    def progress(done: int, total: int) -> None:
        nonlocal sent
        count = done // per_submission
        if count > sent:
            sent = count
            _send_frame(fd, ("progress", count))

    try:
        payload: object = ("ok", grade_chunk(chunk, exercises, settings, progress))
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        payload = ("error", last[:300])
    _send_frame(fd, payload)
    os.close(fd)


def _send_frame(fd: int, payload: object) -> None:
    blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(blob)) + blob)
    while view:
        view = view[os.write(fd, view) :]


def _frames(child: _Child) -> Iterator[tuple[str, object]]:
    """Complete frames at the start of what the child sent; consumes them."""
    while len(child.data) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(child.data)
        if len(child.data) < _HEADER.size + size:
            return
        blob = bytes(child.data[_HEADER.size : _HEADER.size + size])
        del child.data[: _HEADER.size + size]
        yield pickle.loads(blob)


def _progress_frames(child: _Child) -> Iterator[int]:
    """Progress counts the child sent so far; keeps its final frame for ``_finish``."""
    for kind, value in _frames(child):
        if kind == "progress":
            yield int(value)  # type: ignore[call-overload]
        else:
            child.final = (kind, value)


def _finish(child: _Child) -> list[SubmissionResult] | Exception:
    os.close(child.fd)
    try:
        _, status = os.waitpid(child.pid, 0)
    except ChildProcessError:
        status = 0
    for _ in _progress_frames(child):
        pass
    if child.final is None:
        if os.WIFSIGNALED(status):
            return ChunkFailed(f"the grading process was killed by {_signame(status)}")
        return ChunkFailed("the grading process ended without a result")
    kind, value = child.final
    if kind != "ok":
        return ChunkFailed(str(value))
    return list(value)  # type: ignore[call-overload]


def _signame(status: int) -> str:
    try:
        return signal.Signals(os.WTERMSIG(status)).name
    except ValueError:
        return f"signal {os.WTERMSIG(status)}"


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
