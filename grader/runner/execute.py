"""The grader's side of the sandbox: run one exercise of one submission.

``Sandbox.run`` sends the learner's source and the hidden inputs to a fresh
worker, reads its framed answers (one per case, then a closing one) under a
wall-clock limit per exercise, an overall time budget per submission and a
memory limit over the worker's whole process tree, kills everything the worker
started, and returns an ``Outcome`` made of plain data.
"""

from __future__ import annotations

import functools
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
from grader.text_safety import clean_data

MAX_RESULT_BYTES = 64 << 20
MAX_EVENTS = 32
START_SECONDS = 120.0  # to get ready (imports, CUDA): the grader's time, not the learner's
START_ATTEMPTS = 2
# Ways an exercise can end its worker: after others ran in the same worker, the
# exercise is graded again alone (``Sandbox.run_all``).
PROCESS_LEVEL = frozenset({"timeout", "memory", "threads", "exited", "crashed", "bad_output"})
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
    timeout, memory, threads, exited, crashed, bad_output, and sandbox_error when
    the grader could not start a worker at all (not the learner's doing). ``seconds``
    is the time the learner's code had: from the worker's ready frame to its end.
    A timeout's detail says
    which limit ended it: ``{"seconds": s}`` for the exercise's own limit,
    ``{"seconds": s, "limit": "total"}`` for the submission's overall budget.
    """

    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    seconds: float = 0.0
    events: list[dict[str, str]] = field(default_factory=list)  # e.g. torch.optim used


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

    @functools.cached_property
    def _contained(self) -> bool:
        """Whether a worker can leave nothing behind: its processes die with its PID
        namespace, and with the filesystem read-only but for its scratch folder and
        private /tmp, and System V IPC private, it has nowhere else to leave files
        or objects. Then the uid's clean-up scans (all of /proc, the machine's
        temporary folders, its IPC objects) are skipped."""
        held = self.isolation()
        return held.processes and held.filesystem and held.ipc

    def isolation(self) -> Isolation:
        """Which protections this sandbox's workers get (namespaces, own user id)."""
        return self._zygote.isolation()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(self, job: Job) -> Outcome:
        """One exercise in a worker of its own."""
        return self.run_all([job])[0]

    def run_all(self, jobs: list[Job]) -> list[Outcome]:
        """One learner's exercises, in order, in one worker: one process (and on a
        GPU one CUDA context) per submission. When a file makes that worker end
        (a crash, a hang, an exit, a thread left running, memory, or damage that
        ``health`` sees), that file keeps its verdict and the rest are graded in
        fresh workers, one each. An exercise that fails that way after others ran
        in the same worker is graded again alone, so that no earlier file can have
        caused its verdict."""
        outcomes: list[Outcome | None] = [_unrunnable(job) for job in jobs]
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        shared = self._attempt([jobs[i] for i in todo]) if todo else []
        for k, outcome in enumerate(shared):
            if k == 0 or outcome.status not in PROCESS_LEVEL:
                outcomes[todo[k]] = outcome
        for i in todo:
            if outcomes[i] is None:
                alone = self._attempt([jobs[i]]) if len(todo) > 1 else []
                outcomes[i] = alone[0] if alone else Outcome("sandbox_error", {})
        return [outcome for outcome in outcomes if outcome is not None]

    def _attempt(self, jobs: list[Job]) -> list[Outcome]:
        """Outcomes of the first exercises of ``jobs`` in one worker (all of them,
        unless the worker had to stop); [] if no worker would start."""
        for _attempt in range(START_ATTEMPTS):
            with self._slots:
                lease = lease_uid() if os.getuid() == 0 else None
                try:
                    outcomes = self._run(jobs, lease.uid if lease else None)
                finally:
                    if lease:
                        lease.release()
            if outcomes is not None:
                return outcomes
        return []

    def _budget_left(self, job: Job) -> float:
        """Seconds of learner code left to ``job``'s submission (the overall budget
        minus what its earlier exercises' code used)."""
        key = job.submission or str(Path(job.filename).parent)
        with self._budget_lock:
            return self._budgets.setdefault(key, self.limits.overall)

    def _spend(self, job: Job, seconds: float) -> None:
        key = job.submission or str(Path(job.filename).parent)
        with self._budget_lock:
            self._budgets[key] = self._budgets.get(key, self.limits.overall) - seconds

    def _limit_for(self, job: Job) -> tuple[float, dict[str, Any]]:
        """How long ``job``'s code may run, and what a timeout then says."""
        left = self._budget_left(job)
        if left < self.limits.timeout:
            return max(left, 0.0), {"seconds": self.limits.overall, "limit": "total"}
        return self.limits.timeout, {"seconds": self.limits.timeout}

    def _run(self, jobs: list[Job], uid: int | None) -> list[Outcome] | None:
        """One worker for ``jobs``; None if it never got ready (not the learner's
        doing: ours to retry). Only the learner's code is timed: each exercise's
        clock starts when the worker begins it, after torch, CUDA and the limits
        are set up, so a busy machine that slows the start costs the learner
        nothing."""
        scratch = tempfile.mkdtemp(prefix="grade-")
        settings = self._settings(scratch, uid, _device_of(jobs))
        tensors: dict[str, Tensor] = {}
        exercises = []
        for e, job in enumerate(jobs):
            packed, metas = pack(job.cases)
            tensors.update({f"{e}/{key}": t for key, t in packed.items()})
            exercises.append(
                {
                    "exercise": job.exercise.name,
                    "source": job.source,
                    "filename": job.filename,
                    "cases": metas,
                }
            )
        payload = wire.encode(tensors, {"exercises": exercises})
        try:
            handle = self._zygote.spawn(settings)
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
            return None
        collector = _Collector(self, handle, jobs)
        try:
            _send(handle, payload)
            collector.collect()
        finally:
            kill_worker(handle)
            if uid is not None and not self._contained:
                clear_uid(uid)
            status = exit_status(handle)
            close_handle(handle)
            shutil.rmtree(scratch, ignore_errors=True)
        if not collector.frames.ready:
            return None
        collector.end_open_exercise(status)
        return collector.outcomes

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


class _Collector:
    """Reads one worker's frames, with each exercise's limits, into outcomes."""

    def __init__(self, box: Sandbox, handle: WorkerHandle, jobs: list[Job]) -> None:
        self.box = box
        self.handle = handle
        self.jobs = jobs
        self.frames = _Frames([len(job.cases) for job in jobs])
        self.outcomes: list[Outcome] = []
        self._open: int | None = None  # the exercise begun and not yet closed
        self._begun_at = 0.0
        self._events: list[dict[str, str]] = []  # what the open exercise's code did
        self._on_timeout: dict[str, Any] = {}

    def collect(self) -> None:
        """Until the worker is done or has to stop. Before it is ready, and between
        exercises, only a generous start-up limit applies (the grader's own work);
        while an exercise runs, its time limit and the memory limit (resident
        memory of the worker and every process it started, from the exercise's
        start) apply."""
        limits = self.box.limits
        between = max(START_SECONDS, 4 * limits.timeout)
        deadline = time.monotonic() + between
        next_poll = 0.0
        baseline: float | None = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                if self._open is not None:
                    self._close(Outcome("timeout", dict(self._on_timeout)), now)
                return
            if baseline is not None and now >= next_poll:
                if _tree_rss_mb(self.handle.pid) - baseline > limits.memory_mb:
                    self._close(Outcome("memory", {"mb": limits.memory_mb}), now)
                    return
                next_poll = now + _POLL
            wait = min(deadline - now, _POLL) if baseline is not None else deadline - now
            ready, _, _ = select.select([self.handle.result_r], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self.handle.result_r, 1 << 20)
            if not chunk:
                return
            for kind, value in self.frames.feed(chunk):
                now = time.monotonic()
                if kind == "event":
                    if self._open is not None and len(self._events) < MAX_EVENTS:
                        self._events.append(value)
                elif kind == "begin":
                    job = self.jobs[value]
                    limit, self._on_timeout = self.box._limit_for(job)
                    self._open, self._begun_at = value, now
                    deadline = now + limit
                    baseline = _tree_rss_mb(self.handle.pid)
                elif kind == "closed":
                    self._close(value, now)
                    deadline, baseline = now + between, None
                elif kind == "bad":
                    if self._open is not None:
                        self._close(value, now)
                    return
                else:  # done, stop
                    return

    def _close(self, outcome: Outcome, now: float) -> None:
        assert self._open is not None
        outcome.seconds = now - self._begun_at
        outcome.events, self._events = self._events, []
        self.box._spend(self.jobs[self._open], outcome.seconds)
        self.outcomes.append(outcome)
        self._open = None

    def end_open_exercise(self, status: int | None) -> None:
        """The worker ended in the middle of an exercise: say how."""
        if self._open is not None:
            self._close(_ended_without_answer(status, self._on_timeout), time.monotonic())


class _Frames:
    """Reassembles a worker's frames: ``<length><wire message>``. First ``ready``
    (sent before any learner code runs); then for each exercise ``begin``, one
    frame per case in order and a closing frame; then ``done`` (or ``stop``).
    ``event`` frames may come at any time. Anything else is ``bad_output``.

    ``feed`` returns what happened, in order: ("begin", index), ("event", dict),
    ("closed", Outcome), ("bad", Outcome), ("done", None) or ("stop", None)."""

    def __init__(self, cases: list[int]) -> None:
        self.ready = False
        self._cases = cases
        self._buf = bytearray()
        self._received = 0
        self._current = -1
        self._open = False  # between an exercise's begin and its closing frame
        self._observations: list[Observation] = []

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        self._buf += chunk
        self._received += len(chunk)
        if self._received > MAX_RESULT_BYTES:
            return [("bad", Outcome("bad_output", {"why": "answer too large"}))]
        happened: list[tuple[str, Any]] = []
        while len(self._buf) >= 8:
            (need,) = struct.unpack("<Q", self._buf[:8])
            if need > MAX_RESULT_BYTES:
                return [*happened, ("bad", Outcome("bad_output", {"why": "answer too large"}))]
            if len(self._buf) < 8 + need:
                break
            blob = bytes(self._buf[8 : 8 + need])
            del self._buf[: 8 + need]
            kind, value = self._frame(blob)
            if kind:
                happened.append((kind, value))
                if kind in ("bad", "done", "stop"):
                    break
        return happened

    def _frame(self, blob: bytes) -> tuple[str, Any]:
        try:
            tensors, doc = wire.decode(blob, max_bytes=MAX_RESULT_BYTES)
        except wire.WireError as exc:
            return "bad", Outcome("bad_output", {"why": str(exc)})
        doc = clean_data(doc)  # its text is the learner's: see grader/text_safety.py
        if not self.ready:
            if doc.get("status") != "ready":
                return "bad", Outcome("bad_output", {"why": "no ready message"})
            self.ready = True
            return "", None
        if "event" in doc:
            return "event", {"event": str(doc["event"]), "name": str(doc.get("name", ""))}
        if "begin" in doc:
            if doc["begin"] != self._current + 1 or doc["begin"] >= len(self._cases):
                return "bad", Outcome("bad_output", {"why": "exercises out of order"})
            self._current = int(doc["begin"])
            self._open = True
            self._observations = []
            return "begin", self._current
        status = doc.get("status")
        if status in ("done", "stop"):
            return status, None
        if not self._open:
            return "bad", Outcome("bad_output", {"why": "an answer outside an exercise"})
        cases = self._cases[self._current]
        if "case" in doc:
            if doc.get("case") != len(self._observations) or len(self._observations) >= cases:
                return "bad", Outcome("bad_output", {"why": "answers out of order"})
            self._observations.append(_observation(doc, tensors))
            return "", None
        if status == "ok":
            if doc.get("cases") != cases or len(self._observations) != cases:
                return "bad", Outcome("bad_output", {"why": "wrong number of results"})
            self._open = False
            return "closed", Outcome("ok", {}, self._observations)
        known = {"import_error", "missing_function", "bad_output", "memory", "threads"}
        self._open = False
        return "closed", Outcome(status if status in known else "bad_output", doc)


def _observation(entry: dict[str, Any], tensors: dict[str, Tensor]) -> Observation:
    status = entry.get("status")
    facts = entry.get("facts")
    return Observation(
        status=status if status in ("ok", "raised") else "raised",
        facts=dict(facts) if isinstance(facts, dict) else {},  # a forged answer may hold anything
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
    doc = clean_data(doc)  # its text is the learner's: see grader/text_safety.py
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


def _unrunnable(job: Job) -> Outcome | None:
    """The outcome of a job whose file cannot run at all (missing or unreadable)."""
    if job.source is None:
        return Outcome("missing_file", {"file": job.exercise.file})
    if job.problem:
        return Outcome("unreadable_file", {"file": job.exercise.file, "why": job.problem})
    return None


def _device_of(jobs: list[Job]) -> str:
    for job in jobs:
        if job.cases:
            return job.cases[0].device
    return "cpu"


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
