"""``grade doctor``: which protections hold on this machine, for this user.

It starts a sandbox exactly as ``grade`` does and grades a probe in it, through
the same path as a learner's code. The probe tries what an escaping submission
would: connect to a port the doctor listens on (127.0.0.1) and to an abstract
Unix socket of the doctor's, see a file the doctor put in /tmp, write into its
own folder (which the doctor made writable for everyone), count the processes
it sees, open a System V shared memory segment of the doctor's; it reads its
limits and, on a machine with CUDA, runs a computation on the GPU. Each answer
is checked against what the sandbox announced, and from outside where possible
(the listener must have seen no connection).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import pwd
import resource
import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from typing import Any

from grader import registry
from grader.grading import draw_cases  # imports the check modules before the zygote forks
from grader.runner.execute import Job, Limits, Outcome, Sandbox
from grader.runner.mounts import TEMP_MB
from grader.runner.namespaces import Isolation

_IPC_CREAT = 0o1000
_IPC_EXCL = 0o2000
_IPC_RMID = 0

PROBE = """\
import ctypes, errno, json, os, resource, socket
found = {{}}
def attempt(key, action):
    try:
        action()
        found[key] = "ok"
    except OSError as exc:
        found[key] = errno.errorcode.get(exc.errno, str(exc.errno))
def tcp():
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
def abstract():
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        sock.connect({abstract!r})
def write():
    with open(os.path.join({folder!r}, "written-by-the-probe"), "w") as fh:
        fh.write("x")
attempt("tcp", tcp)
attempt("abstract", abstract)
attempt("write", write)
found["planted"] = os.path.exists({planted!r})
found["pids"] = len([p for p in os.listdir("/proc") if p.isdigit()])
libc = ctypes.CDLL(None, use_errno=True)
found["shm"] = "ok" if libc.shmget({key}, 0, 0) >= 0 else errno.errorcode.get(ctypes.get_errno())
found["uid"] = os.getuid()
found["limits"] = {{
    name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))[0]
    for name in ("as", "data", "cpu", "fsize", "nofile", "nproc", "core")
}}
found["nnp"] = libc.prctl(39, 0, 0, 0, 0)
found["dumpable"] = libc.prctl(3, 0, 0, 0, 0)
found["nodes"] = sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))[:12]
found["usable"] = len([n for n in found["nodes"] if os.access("/dev/" + n, os.R_OK | os.W_OK)])
if {cuda}:
    import torch
    try:
        found["cuda"] = [torch.cuda.device_count(), float(torch.ones(4, device="cuda").sum())]
    except Exception as exc:
        found["cuda"] = str(exc)[:160]
raise RuntimeError(json.dumps(found, separators=(",", ":")))
"""


@dataclass
class Check:
    """One line of the diagnosis: a message key, whether it holds (None: does not
    apply here), the message's parameters and, when it does not hold, why."""

    key: str
    holds: bool | None
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""


@dataclass
class Diagnosis:
    runs_as: str  # root or user
    uid: int
    user: str
    machine: str
    isolation: Isolation
    isolation_checks: list[Check]
    limits: list[Check]
    cuda: Check

    def as_dict(self) -> dict[str, Any]:
        def rows(checks: list[Check]) -> list[dict[str, Any]]:
            return [
                {"key": c.key, "holds": c.holds, "params": c.params, "why": c.why} for c in checks
            ]

        return {
            "runs_as": self.runs_as,
            "uid": self.uid,
            "user": self.user,
            "machine": self.machine,
            "sandbox": self.isolation.report(),
            "why": dict(self.isolation.why),
            "isolation": rows(self.isolation_checks),
            "limits": rows(self.limits),
            "cuda": rows([self.cuda])[0],
        }


def diagnose() -> Diagnosis:
    """Start a sandbox with grade's default limits, run the probe in it (and on the
    GPU where there is one: CUDA is touched only after the zygote exists)."""
    import torch

    limits = Limits()
    uid = os.getuid()
    with Sandbox(limits) as box, _Bait() as bait:
        iso = box.isolation()
        found = _probe(box, bait, device="cpu")
        cuda_found = None
        if torch.cuda.is_available():
            box.limits = Limits(timeout=20.0)  # grade's default on CUDA
            cuda_found = _probe(box, bait, device="cuda")
        connected = bait.connections()
    machine = (
        f"Linux {platform.release()}, Python {platform.python_version()}, torch {torch.__version__}"
    )
    return Diagnosis(
        runs_as="root" if uid == 0 else "user",
        uid=uid,
        user=_user_name(uid),
        machine=machine,
        isolation=iso,
        isolation_checks=_isolation_checks(iso, found, connected, uid),
        limits=_limit_checks(found, limits),
        cuda=_cuda_check(cuda_found, torch.__version__, found),
    )


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


class _Bait:
    """What the probe must not reach: a TCP listener, an abstract Unix socket, a
    file in /tmp, a System V shared memory segment and a folder anyone may write."""

    def __enter__(self) -> _Bait:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.abstract_name = "\0grade-doctor-" + secrets.token_hex(8)
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind(self.abstract_name)
        self.abstract.listen(8)
        self.abstract.setblocking(False)
        handle, self.planted = tempfile.mkstemp(prefix="grade-doctor-")
        os.close(handle)
        self.folder = tempfile.mkdtemp(prefix="grade-doctor-")
        os.chmod(self.folder, 0o777)
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.key = secrets.randbelow(1 << 30) + 1
        self.shm = self._libc.shmget(self.key, 4096, _IPC_CREAT | _IPC_EXCL | 0o600)
        return self

    def connections(self) -> int:
        count = 0
        for listener in (self.tcp, self.abstract):
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    break
                conn.close()
                count += 1
        return count

    def __exit__(self, *_: object) -> None:
        self.tcp.close()
        self.abstract.close()
        for remove in (lambda: os.unlink(self.planted), lambda: shutil.rmtree(self.folder)):
            try:
                remove()
            except OSError:
                pass
        if self.shm >= 0:
            self._libc.shmctl(self.shm, _IPC_RMID, None)


def _probe(box: Sandbox, bait: _Bait, *, device: str) -> dict[str, Any]:
    exercise = registry.BY_NAME["scalar_grad"]
    source = PROBE.format(
        port=bait.tcp.getsockname()[1],
        abstract=bait.abstract_name,
        folder=bait.folder,
        planted=bait.planted,
        key=bait.key if bait.shm >= 0 else 0,
        cuda=device == "cuda",
    )
    filename = os.path.join(bait.folder, exercise.file)
    outcome = box.run(Job(exercise, source, filename, draw_cases(exercise, 0, device)))
    return _answer(outcome)


def _answer(outcome: Outcome) -> dict[str, Any]:
    """The probe's findings, which it raised as JSON; {"failed": why} otherwise."""
    error = outcome.detail.get("error") if isinstance(outcome.detail, dict) else None
    message = str((error or {}).get("message", ""))
    try:
        found = json.loads(message)
    except ValueError:
        return {"failed": f"{outcome.status} {outcome.detail}"[:300]}
    return found if isinstance(found, dict) else {"failed": message[:300]}


def _isolation_checks(
    iso: Isolation, found: dict[str, Any], connected: int, uid: int
) -> list[Check]:
    failed = found.get("failed")
    ran = not failed  # nothing is confirmed by a probe that did not run
    checks: list[Check] = []
    if not iso.root:
        why = "" if iso.user_namespace else _why(iso)
        checks.append(Check("userns", iso.user_namespace, {"uid": uid}, why))
    tcp = str(found.get("tcp", "?"))
    checks.append(
        Check(
            "network",
            ran and iso.network and tcp != "ok" and not connected,
            {"error": tcp},
            iso.why.get("network", "") or _mismatch(failed, tcp, "connected"),
        )
    )
    abstract = str(found.get("abstract", "?"))
    checks.append(
        Check(
            "abstract",
            ran and iso.network and abstract != "ok" and not connected,
            {"error": abstract},
            iso.why.get("network", "") or _mismatch(failed, abstract, "connected"),
        )
    )
    write = str(found.get("write", "?"))
    private = found.get("planted") is False
    checks.append(
        Check(
            "filesystem",
            ran and iso.filesystem and write == "EROFS" and private,
            {"mb": TEMP_MB, "error": write},
            iso.why.get("filesystem", "") or _mismatch(failed, write, "written"),
        )
    )
    pids = int(found.get("pids", -1))
    checks.append(
        Check(
            "processes",
            ran and iso.processes and 0 < pids <= 3,
            {"count": pids},
            iso.why.get("processes", "") or _mismatch(failed, str(pids), "sees them"),
        )
    )
    shm = str(found.get("shm", "?"))
    checks.append(
        Check(
            "ipc",
            ran and iso.ipc and shm == "ENOENT",
            {"error": shm},
            iso.why.get("ipc", "") or _mismatch(failed, shm, "found"),
        )
    )
    inside = int(found.get("uid", -1))
    if iso.root:
        why = _mismatch(failed, str(inside), "not its own") if failed else ""
        checks.append(Check("uid", inside not in (-1, 0, uid), {"uid": inside}, why))
    else:
        checks.append(Check("uid", None, {"uid": inside}))
    return checks


def _why(iso: Isolation) -> str:
    return next(iter(iso.why.values()), "")


def _mismatch(failed: object, seen: str, what: str) -> str:
    if failed:
        return f"the probe did not run: {failed}"
    return f"announced, but from inside: {seen} ({what})"


def _limit_checks(found: dict[str, Any], limits: Limits) -> list[Check]:
    values = found.get("limits") or {}

    def value(name: str) -> int:
        try:
            return int(values.get(name, -2))
        except (TypeError, ValueError):
            return -2

    unlimited = resource.RLIM_INFINITY
    memory = value("as")
    return [
        Check(
            "memory",
            memory not in (unlimited, -2),
            {"mb": limits.memory_mb, "total": max(memory, 0) >> 20},
        ),
        Check("cpu", value("cpu") not in (unlimited, -2), {"seconds": value("cpu")}),
        Check("fsize", value("fsize") not in (unlimited, -2), {"mb": max(value("fsize"), 0) >> 20}),
        Check("nofile", value("nofile") not in (unlimited, -2), {"count": value("nofile")}),
        Check("nproc", value("nproc") not in (unlimited, -2), {"count": value("nproc")}),
        Check("core", value("core") == 0, {}),
        Check("privileges", found.get("nnp") == 1 and found.get("dumpable") == 0, {}),
    ]


def _cuda_check(found: dict[str, Any] | None, torch_version: str, cpu: dict[str, Any]) -> Check:
    nodes = ", ".join(f"/dev/{n}" for n in cpu.get("nodes") or []) or "-"
    if found is None:
        return Check("cuda", None, {"torch": torch_version, "nodes": nodes})
    result = found.get("cuda")
    if isinstance(result, list) and len(result) == 2 and result[1] == 4.0:
        usable = found.get("usable", 0)
        return Check("cuda", True, {"count": result[0], "nodes": nodes, "usable": usable})
    why = str(result if result is not None else found.get("failed", "?"))
    return Check("cuda", False, {"nodes": nodes}, why)
