"""The grader's side of the sandbox: run one exercise of one submission.

``Sandbox.run`` sends the learner's source and the hidden inputs to a fresh
worker, reads its framed answers (one per case, then a closing one) under a
wall-clock limit per exercise, an overall time budget per submission and a
memory limit over the worker's whole process tree, kills everything the worker
started, and returns an ``Outcome`` made of plain data.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from grader.cases import Case, pack
from grader.registry import Exercise
from grader.runner import wire
from grader.runner.namespaces import Isolation
from grader.runner.uids import clear_uid, lease_uid
from grader.runner.worker import prepare_zygote, worker_main
from grader.runner.zygote import (
    WorkerHandle,
    Zygote,
    children_of,
    close_handle,
    exit_status,
    kill_worker,
    protect_from_workers,
)

MAX_RESULT_BYTES = 64 << 20
_POLL = 0.05  # seconds between memory checks


@dataclass(frozen=True)
class Limits:
    timeout: float = 5.0  # wall-clock seconds per exercise
    memory_mb: int = 1024  # memory per exercise, on top of what the grader itself uses
    total: float | None = None  # seconds per submission (default: 6 x timeout)

    @property
    def overall(self) -> float:
        return self.total if self.total else 6 * self.timeout


@dataclass
class Observation:
    """What came back for one case."""

    status: str  # "ok" or "raised"
    facts: dict[str, Any]
    tensors: dict[str, Tensor]
    error: dict[str, Any] | None = None


@dataclass
class Outcome:
    """What happened when one exercise of one submission ran.

    status: ok, missing_file, unreadable_file, import_error, missing_function,
    timeout, memory, threads, exited, crashed, bad_output. A timeout's detail says
    which limit ended it: ``{"seconds": s}`` for the exercise's own limit,
    ``{"seconds": s, "limit": "total"}`` for the submission's overall budget.
    """

    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Job:
    exercise: Exercise
    source: str | None  # None: the file is missing
    filename: str
    cases: list[Case]
    problem: str = ""  # why the source could not be read, when it could not
    submission: str = ""  # whose job, in which grade() call: such jobs share one overall budget


class Sandbox:
    """Owns the zygote; ``run`` is safe to call from several threads."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        if os.getuid() != 0:  # workers run as this user: keep them out of this process
            protect_from_workers()
        self._zygote = Zygote(worker_main, prepare=prepare_zygote)
        self._slots = threading.Semaphore(64)
        self._budget_lock = threading.Lock()
        self._budgets: dict[str, float] = {}  # submission (per grade call) -> end of its budget

    def close(self) -> None:
        self._zygote.close()

    def isolation(self) -> Isolation:
        """Which protections this sandbox's workers get (namespaces, own user id)."""
        return self._zygote.isolation()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(self, job: Job) -> Outcome:
        if job.source is None:
            return Outcome("missing_file", {"file": job.exercise.file})
        if job.problem:
            return Outcome("unreadable_file", {"file": job.exercise.file, "why": job.problem})
        with self._slots:
            lease = lease_uid() if os.getuid() == 0 else None
            try:
                return self._run(job, lease.uid if lease else None)
            finally:
                if lease:
                    lease.release()

    def _budget_end(self, job: Job) -> float:
        """When the overall budget of ``job``'s submission runs out (its first job
        starts the clock)."""
        key = job.submission or str(Path(job.filename).parent)
        with self._budget_lock:
            return self._budgets.setdefault(key, time.monotonic() + self.limits.overall)

    def _run(self, job: Job, uid: int | None) -> Outcome:
        started = time.monotonic()
        budget_end = self._budget_end(job)
        total = {"seconds": self.limits.overall, "limit": "total"}
        if budget_end - started <= 0:
            return Outcome("timeout", total)
        if budget_end < started + self.limits.timeout:
            deadline, on_timeout = budget_end, total
        else:
            deadline, on_timeout = started + self.limits.timeout, {"seconds": self.limits.timeout}
        scratch = tempfile.mkdtemp(prefix="grade-")
        settings = self._settings(scratch, uid, job.cases[0].device if job.cases else "cpu")
        tensors, metas = pack(job.cases)
        payload = wire.encode(
            tensors,
            {
                "exercise": job.exercise.name,
                "source": job.source,
                "filename": job.filename,
                "cases": metas,
            },
        )
        try:
            handle = self._zygote.spawn(settings)
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
            return Outcome("crashed", {"signal": "no sandbox"})
        try:
            _send(handle, payload)
            outcome = self._collect(handle, deadline, on_timeout, len(job.cases))
        finally:
            kill_worker(handle)
            if uid is not None:
                clear_uid(uid)
            status = exit_status(handle)
            close_handle(handle)
            shutil.rmtree(scratch, ignore_errors=True)
        if outcome is None:
            outcome = _ended_without_answer(status, on_timeout)
        if outcome.status == "memory":
            outcome.detail = {"mb": self.limits.memory_mb}
        outcome.seconds = time.monotonic() - started
        return outcome

    def _settings(self, scratch: str, uid: int | None, device: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "scratch": scratch,
            "cpu_seconds": int(self.limits.timeout) + 2,
            "nproc": 64,
        }
        # Hard limits on top of the RSS polling, both relative to the worker's own size.
        # RLIMIT_AS breaks CUDA initialisation, so GPU workers get RLIMIT_DATA (private
        # writable memory, which CUDA's address-space reservations are not), set once
        # CUDA is up.
        if device == "cpu":
            settings["address_space_mb"] = self.limits.memory_mb
        else:
            settings["data_mb"] = self.limits.memory_mb
        if uid is not None:
            settings.update(uid=uid, gid=uid)
            os.chown(scratch, uid, uid)
        return settings

    def _collect(
        self, handle: WorkerHandle, deadline: float, on_timeout: dict[str, Any], cases: int
    ) -> Outcome | None:
        """Read the worker's frames until the closing one, enforcing the wall-clock
        limit and the memory limit (resident memory of the worker and every process
        it started). None: the worker ended without a complete answer."""
        frames = _Frames(cases)
        next_poll = 0.0
        baseline: float | None = None  # resident memory when the learner's code starts
        while True:
            now = time.monotonic()
            if now >= deadline:
                return Outcome("timeout", dict(on_timeout))
            if baseline is None and frames.ready:
                baseline = _tree_rss_mb(handle.pid)
            if baseline is not None and now >= next_poll:
                if _tree_rss_mb(handle.pid) - baseline > self.limits.memory_mb:
                    return Outcome("memory", {})
                next_poll = now + _POLL
            ready, _, _ = select.select([handle.result_r], [], [], min(deadline - now, _POLL))
            if not ready:
                continue
            chunk = os.read(handle.result_r, 1 << 20)
            if not chunk:
                return None
            outcome = frames.feed(chunk)
            if outcome is not None:
                return outcome


class _Frames:
    """Reassembles a worker's frames: ``<length><wire message>``. First ``ready``
    (sent before any learner code runs), then one per case in order, then a
    closing frame. Anything else makes the answer ``bad_output``."""

    def __init__(self, cases: int) -> None:
        self.ready = False
        self._cases = cases
        self._buf = bytearray()
        self._received = 0
        self._observations: list[Observation] = []

    def feed(self, chunk: bytes) -> Outcome | None:
        self._buf += chunk
        self._received += len(chunk)
        if self._received > MAX_RESULT_BYTES:
            return Outcome("bad_output", {"why": "answer too large"})
        while len(self._buf) >= 8:
            (need,) = struct.unpack("<Q", self._buf[:8])
            if need > MAX_RESULT_BYTES:
                return Outcome("bad_output", {"why": "answer too large"})
            if len(self._buf) < 8 + need:
                return None
            blob = bytes(self._buf[8 : 8 + need])
            del self._buf[: 8 + need]
            outcome = self._frame(blob)
            if outcome is not None:
                return outcome
        return None

    def _frame(self, blob: bytes) -> Outcome | None:
        try:
            tensors, doc = wire.decode(blob, max_bytes=MAX_RESULT_BYTES)
        except wire.WireError as exc:
            return Outcome("bad_output", {"why": str(exc)})
        if not self.ready:
            if doc.get("status") != "ready":
                return Outcome("bad_output", {"why": "no ready message"})
            self.ready = True
            return None
        if "case" in doc:
            if doc.get("case") != len(self._observations) or len(self._observations) >= self._cases:
                return Outcome("bad_output", {"why": "answers out of order"})
            self._observations.append(_observation(doc, tensors))
            return None
        status = doc.get("status")
        if status == "ok":
            if doc.get("cases") != self._cases or len(self._observations) != self._cases:
                return Outcome("bad_output", {"why": "wrong number of results"})
            return Outcome("ok", {}, self._observations)
        known = {"import_error", "missing_function", "bad_output", "memory", "threads"}
        return Outcome(status if status in known else "bad_output", doc)


def _observation(entry: dict[str, Any], tensors: dict[str, Tensor]) -> Observation:
    status = entry.get("status")
    return Observation(
        status=status if status in ("ok", "raised") else "raised",
        facts=dict(entry.get("facts") or {}),
        tensors=tensors,
        error=entry.get("error") if isinstance(entry.get("error"), dict) else None,
    )


def _decode_answer(blob: bytes) -> Outcome:
    """An answer in one message (``{"status": "ok", "cases": [...]}``), as the in-kernel
    check (``grader/classroom/kernel.py``) builds it."""
    try:
        tensors, doc = wire.decode(blob, max_bytes=MAX_RESULT_BYTES)
    except wire.WireError as exc:
        return Outcome("bad_output", {"why": str(exc)})
    status = doc.get("status")
    if status != "ok":
        known = {"import_error", "missing_function", "bad_output"}
        return Outcome(status if status in known else "bad_output", doc)
    observations = []
    for index, entry in enumerate(doc.get("cases", [])):
        prefix = f"{index}/"
        mine = {k[len(prefix) :]: t for k, t in tensors.items() if k.startswith(prefix)}
        observations.append(
            Observation(
                status=str(entry.get("status")),
                facts=dict(entry.get("facts") or {}),
                tensors=mine,
                error=entry.get("error"),
            )
        )
    return Outcome("ok", {}, observations)


def _ended_without_answer(status: int | None, on_timeout: dict[str, Any]) -> Outcome:
    if status is None:
        return Outcome("crashed", {"signal": "unknown"})
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:  # its CPU-time limit, which follows the wall-clock one
            return Outcome("timeout", {**on_timeout, "cpu": True})
        try:
            name = signal.Signals(sig).name
        except ValueError:  # a real-time signal has no name
            name = f"signal {sig}"
        return Outcome("crashed", {"signal": name})
    return Outcome("exited", {"code": os.WEXITSTATUS(status)})


def _send(handle: WorkerHandle, payload: bytes) -> None:
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(handle.job_w, view) :]
    except BrokenPipeError:
        pass
    finally:
        os.close(handle.job_w)
        handle.job_w = -1


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` plus the memory private to each of its descendants
    (what a forked child shares with its parent is counted once, in the parent)."""
    total = _rss_mb(pid)
    seen = {pid}
    stack = children_of(pid)
    while stack:
        p = stack.pop()
        if p in seen or len(seen) > 4096:
            continue
        seen.add(p)
        total += _private_mb(p)
        stack.extend(children_of(p))
    return total


def _private_mb(pid: int) -> float:
    """Memory only ``pid`` maps (copy-on-write pages it has not written are shared)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            kb = sum(int(line.split()[1]) for line in fh if line.startswith(("Private_", "Swap:")))
    except (OSError, ValueError, IndexError):
        return _rss_mb(pid)  # no smaps_rollup (or not ours to read): count it all
    return kb / 1024


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * resource.getpagesize() / (1 << 20)
