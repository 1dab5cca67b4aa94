"""The grader's side of the sandbox: run one exercise of one submission.

``Sandbox.run`` sends the learner's source and the hidden inputs to a fresh
worker, waits for its framed answer under a wall-clock and memory limit, kills
everything the worker started, and returns an ``Outcome`` made of plain data.
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
from typing import Any

from torch import Tensor

from grader.cases import Case, pack
from grader.registry import Exercise
from grader.runner import wire
from grader.runner.uids import lease_uid
from grader.runner.worker import worker_main
from grader.runner.zygote import WorkerHandle, Zygote, close_handle, exit_status, kill_worker

MAX_RESULT_BYTES = 64 << 20


@dataclass(frozen=True)
class Limits:
    timeout: float = 5.0  # wall-clock seconds per exercise
    memory_mb: int = 1024  # resident memory per worker


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
    timeout, memory, exited, crashed, bad_output.
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


class Sandbox:
    """Owns the zygote; ``run`` is safe to call from several threads."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._zygote = Zygote(worker_main)
        self._slots = threading.Semaphore(64)

    def close(self) -> None:
        self._zygote.close()

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

    def _run(self, job: Job, uid: int | None) -> Outcome:
        started = time.monotonic()
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
        handle = self._zygote.spawn(settings)
        try:
            _send(handle, payload)
            outcome = self._collect(handle, started)
        finally:
            kill_worker(handle)
            if "uid" in settings:
                _kill_uid(settings["uid"])
            status = exit_status(handle)
            close_handle(handle)
            shutil.rmtree(scratch, ignore_errors=True)
        if outcome is None:
            outcome = _ended_without_answer(status)
        outcome.seconds = time.monotonic() - started
        return outcome

    def _settings(self, scratch: str, uid: int | None, device: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "scratch": scratch,
            "cpu_seconds": int(self.limits.timeout) + 2,
        }
        if device == "cpu":  # RLIMIT_AS breaks CUDA initialisation: CPU workers only
            settings["address_space"] = _address_space() + (self.limits.memory_mb << 20)
        if uid is not None:
            settings.update(uid=uid, gid=uid, nproc=64)
            os.chown(scratch, uid, uid)
        return settings

    def _collect(self, handle: WorkerHandle, started: float) -> Outcome | None:
        """Read the framed answer, enforcing the wall-clock and memory limits."""
        deadline = started + self.limits.timeout
        buf = bytearray()
        need: int | None = None
        while need is None or len(buf) < need + 8:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Outcome("timeout", {"seconds": self.limits.timeout})
            ready, _, _ = select.select([handle.result_r], [], [], min(remaining, 0.05))
            if not ready:
                if _rss_mb(handle.pid) > self.limits.memory_mb:
                    return Outcome("memory", {"mb": self.limits.memory_mb})
                continue
            chunk = os.read(handle.result_r, 1 << 20)
            if not chunk:
                return None
            buf += chunk
            if need is None and len(buf) >= 8:
                (need,) = struct.unpack("<Q", buf[:8])
                if need > MAX_RESULT_BYTES:
                    return Outcome("bad_output", {"why": "answer too large"})
        return _decode_answer(bytes(buf[8 : 8 + need]))


def _decode_answer(blob: bytes) -> Outcome:
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


def _ended_without_answer(status: int | None) -> Outcome:
    if status is None:
        return Outcome("crashed", {"signal": "unknown"})
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return Outcome("timeout", {"cpu": True})
        return Outcome("crashed", {"signal": signal.Signals(sig).name})
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


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * resource.getpagesize() / (1 << 20)


def _address_space() -> int:
    """This process's current virtual size: the worker starts from the same."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError):
        return 4 << 30


def _kill_uid(uid: int) -> None:
    """Kill every process of the sandbox user (setsid escapees included)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
