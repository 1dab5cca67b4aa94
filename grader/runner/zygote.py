"""A clean process that forks one worker per exercise run.

The grader forks the zygote right after importing torch and the check modules,
before it draws any hidden input or computes any reference. Workers fork from
the zygote, so a learner's process never holds the grader's secrets or another
learner's results, yet starts in milliseconds with torch already imported.

The zygote is a child subreaper: processes that a worker leaves behind (even
after ``setsid``) are re-parented to it, and it kills them.

Where the kernel allows it, the zygote lives in the namespaces its workers share
and gives each worker a PID namespace of its own (``namespaces``); its first
message to the grader says which protections hold.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from grader.runner.mounts import hidden_import_folders
from grader.runner.namespaces import Isolation, PidNamespaces, isolate_zygote

_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_MAX_MSG = 4096
_SWEEP = 0.05  # seconds between sweeps for re-parented leftovers


def _prctl(option: int, value: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: leftovers are still killed by process group


def protect_from_workers() -> None:
    """Make this process non-dumpable: processes of the same user (workers, when the
    grader is not root) can then neither ptrace it nor open its /proc files
    (memory, file descriptors)."""
    _prctl(_PR_SET_DUMPABLE, 0)


def _quiet_stdio() -> None:
    """The zygote never prints; its workers cannot reach the grader's stdout through it."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc), or [] where unsupported."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(p) for p in fh.read().split())
        except OSError:
            continue
    return found


@dataclass
class WorkerHandle:
    """The grader's end of one worker: job pipe, result pipe and status pipe."""

    job_w: int
    result_r: int
    status_r: int
    pid: int = 0


WorkerMain = Callable[[int, int, dict], None]
_OPEN: set[socket.socket] = set()  # the grader's ends of zygotes still running


class Zygote:
    """Grader-side handle of the zygote process."""

    def __init__(
        self, worker_main: WorkerMain, prepare: Callable[[], WorkerMain] | None = None
    ) -> None:
        """``prepare`` (optional) runs once in the zygote and returns the worker
        entry point to use: work that every worker would repeat is done there once."""
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # the zygote
            code = 1
            try:
                parent_sock.close()
                for other in list(_OPEN):  # else another zygote never sees its end
                    other.close()
                isolation = isolate_zygote(close_in_waiter=[child_sock.fileno()])
                if prepare is not None:
                    worker_main = prepare()
                if isolation.filesystem:
                    isolation.import_folders = hidden_import_folders(sys.modules, sys.path)
                # Ready: the grader learns which protections its workers will get.
                child_sock.send(json.dumps({"isolation": isolation.as_dict()}).encode())
                # Workers' garbage collections must not touch (and so copy) the
                # zygote's objects: freezing them keeps those pages shared.
                gc.freeze()
                _serve(child_sock, worker_main, isolation)
                code = 0
            finally:
                os._exit(code)
        child_sock.close()
        _OPEN.add(parent_sock)
        self.pid = pid
        self._sock = parent_sock
        self._lock = threading.Lock()
        self._isolation: Isolation | None = None

    def isolation(self) -> Isolation:
        """The protections every worker of this zygote gets (its first message)."""
        with self._lock:
            if self._isolation is None:
                try:
                    doc = json.loads(self._sock.recv(_MAX_MSG) or b"{}").get("isolation")
                except (OSError, ValueError, AttributeError):
                    doc = None
                if isinstance(doc, dict):
                    self._isolation = Isolation.from_dict(doc)
                else:
                    self._isolation = Isolation(root=os.geteuid() == 0)
                    for protection in ("network", "filesystem", "processes", "ipc"):
                        self._isolation.lack(protection, "the sandbox did not start")
            return self._isolation

    def spawn(self, settings: dict) -> WorkerHandle:
        """Fork a worker; ``settings`` (JSON) tells it its limits and scratch dir."""
        job_r, job_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(
                    self._sock, [json.dumps(settings).encode()], [job_r, result_w, status_w]
                )
        finally:
            for fd in (job_r, result_w, status_w):
                os.close(fd)
        handle = WorkerHandle(job_w, result_r, status_r)
        line = _read_line(status_r)
        handle.pid = int(line) if line.isdigit() else 0
        return handle

    def close(self) -> None:
        """Stop the zygote; it kills every process still below it before exiting."""
        _OPEN.discard(self._sock)
        try:
            self._sock.close()
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _read_line(fd: int) -> str:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(fd, 64)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip()


def exit_status(handle: WorkerHandle, timeout: float = 5.0) -> int | None:
    """The worker's wait status as reported by the zygote (None if it never came)."""
    ready, _, _ = select.select([handle.status_r], [], [], timeout)
    if not ready:
        return None
    line = _read_line(handle.status_r)
    return int(line) if line.lstrip("-").isdigit() else None


def _serve(sock: socket.socket, worker_main: WorkerMain, isolation: Isolation) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_stdio()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_DUMPABLE, 0)  # same-uid workers cannot ptrace it or read its memory
    pids = PidNamespaces(isolation.processes)
    announced = isolation.as_dict()
    status_fds: dict[int, int] = {}  # worker pid -> status pipe
    last_sweep = 0.0
    open_ = True
    while open_ or status_fds:
        if open_:
            ready, _, _ = select.select([sock], [], [], 0.02)
        else:
            ready = []
            for pid in list(status_fds):
                _kill_group(pid)
            time.sleep(0.01)
        if ready:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, _MAX_MSG, 3)
            except OSError:
                msg, fds = b"", []
            if not msg:
                open_ = False
                for fd in fds:
                    os.close(fd)
            else:
                settings = {**json.loads(msg), "isolation": announced}
                _fork_worker(sock, settings, fds, status_fds, worker_main, pids)
        _reap(status_fds, pids)
        now = time.monotonic()
        if now - last_sweep > _SWEEP or not open_:
            _sweep_orphans(status_fds, pids)
            last_sweep = now
    # Every worker has ended: kill whatever is left below us, then go.
    for _ in range(50):
        kids = children_of(os.getpid())
        if not kids:
            break
        for kid in kids:
            _kill(kid)
        _reap(status_fds, pids)
        time.sleep(0.01)


def _fork_worker(
    sock: socket.socket,
    settings: dict,
    fds: list[int],
    status_fds: dict[int, int],
    worker_main: WorkerMain,
    pids: PidNamespaces,
) -> None:
    """Fork a worker (into a PID namespace of its own where possible) and tell the
    grader its pid as the grader numbers it; pid 0 when no worker could start."""
    job_r, result_w, status_w = fds
    pid, init = -1, 0
    try:
        init = pids.enter_new(lifetime=10 * int(settings.get("cpu_seconds", 0)))
        pid = os.fork()
    except OSError:
        pass
    if pid == 0:  # the worker
        try:
            os.setsid()
            sock.close()
            os.close(status_w)
            for other in status_fds.values():
                os.close(other)
            worker_main(job_r, result_w, settings)
        finally:
            os._exit(70)
    pids.leave(pid, init)
    os.close(job_r)
    os.close(result_w)
    try:
        shown = pids.host_pid(pid) if pid > 0 else 0
    except OSError:
        shown = 0
    os.write(status_w, f"{shown}\n".encode())
    if pid < 0:
        os.close(status_w)  # no status will follow: the grader reads "crashed"
        return
    status_fds[pid] = status_w


def _reap(status_fds: dict[int, int], pids: PidNamespaces) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        pids.reaped(pid)
        fd = status_fds.pop(pid, None)
        if fd is not None:
            _kill_group(pid)  # its leftovers die with it
            pids.worker_ended(pid)  # and everything else in its PID namespace
            try:
                os.write(fd, f"{status}\n".encode())
            except OSError:
                pass
            os.close(fd)


def _sweep_orphans(status_fds: dict[int, int], pids: PidNamespaces) -> None:
    """Kill re-parented leftovers: children of the zygote that are not workers (or
    their namespaces' placeholders), and children of the placeholders."""
    for kid in children_of(os.getpid()):
        if kid not in status_fds and not pids.is_placeholder(kid):
            _kill(kid)
    for init in pids.placeholders():
        for kid in children_of(init):
            _kill(kid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def kill_worker(handle: WorkerHandle) -> None:
    """Kill a worker and its process group (the zygote sweeps anything that escaped)."""
    if handle.pid > 0:
        _kill_group(handle.pid)
        _kill(handle.pid)


def close_handle(handle: WorkerHandle) -> None:
    for fd in (handle.job_w, handle.result_r, handle.status_r):
        try:
            os.close(fd)
        except OSError:
            pass
