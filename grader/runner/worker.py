"""The learner's side of the sandbox: runs in a worker forked from the zygote.

It locks itself down (scratch directory, minimal environment, resource limits,
an unprivileged user when the grader runs as root), runs the exercise's probe on
every case, and writes back one length-prefixed ``wire`` message. Everything the
learner's code raises, even ``SystemExit`` or ``KeyboardInterrupt``, is recorded
as data; nothing it prints reaches the grader's output.
"""

from __future__ import annotations

import importlib
import linecache
import os
import resource
import signal
import struct
import sys
import traceback
import types
from typing import Any

import torch

from grader import registry
from grader.cases import unpack
from grader.runner import wire
from grader.runner.observe import Recorder

_write = os.write
_exit = os._exit
_set_grad_enabled = torch._C._set_grad_enabled
_MAX_TEXT = 600
_MAX_FRAMES = 8


def worker_main(job_fd: int, result_fd: int, settings: dict) -> None:
    """Entry point of a worker process (never returns)."""
    _reset_signals()
    _close_other_fds(keep={job_fd, result_fd})
    os.set_inheritable(result_fd, False)
    blob = _read_all(job_fd)
    os.close(job_fd)
    tensors, doc = wire.decode(blob)
    _confine(settings)
    torch.set_num_threads(1)
    out_tensors, out_doc = run_job(doc, tensors)
    try:
        message = wire.encode(out_tensors, out_doc)
    except BaseException as exc:
        message = wire.encode({}, {"status": "bad_output", "error": describe_exception(exc, "")})
    _write_all(result_fd, struct.pack("<Q", len(message)) + message)
    _exit(0)


def run_job(doc: dict[str, Any], tensors: dict) -> tuple[dict, dict[str, Any]]:
    """Load the learner's source and probe every case. Returns wire tensors and doc."""
    exercise = registry.BY_NAME[doc["exercise"]]
    checks = importlib.import_module(exercise.check_module)
    cases = unpack(tensors, doc["cases"])
    filename = doc["filename"]
    try:
        namespace = load_source(doc["source"], filename, exercise.stem)
    except BaseException as exc:
        return {}, {"status": "import_error", "error": describe_exception(exc, filename)}
    fn = namespace.get(exercise.name)
    if not callable(fn):
        defined = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("_"))
        return {}, {"status": "missing_function", "defined": defined[:12]}
    out_tensors: dict = {}
    results: list[dict[str, Any]] = []
    for index, case in enumerate(cases):
        rec = Recorder()
        live = case.materialize()
        _set_grad_enabled(bool(live.meta.get("grad_mode", True)))
        entry: dict[str, Any] = {"status": "ok"}
        try:
            checks.probe(fn, live, rec)
        except BaseException as exc:  # the learner's exception is data, whatever it is
            entry = {"status": "raised", "error": describe_exception(exc, filename)}
        finally:
            _set_grad_enabled(True)
        entry["facts"] = rec.facts
        results.append(entry)
        for key, t in rec.tensors.items():
            out_tensors[f"{index}/{key}"] = t
    return out_tensors, {"status": "ok", "cases": results}


def load_source(source: str, filename: str, module_name: str) -> dict[str, Any]:
    """Execute the learner's file as a module and return its namespace."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec", dont_inherit=True)
    module = types.ModuleType(module_name)
    module.__file__ = filename
    sys.modules[module_name] = module
    exec(code, module.__dict__)
    return module.__dict__


def describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    """Type, message and the learner's own frames of an exception, as plain data."""
    info: dict[str, Any] = {"type": _safe(lambda: type(exc).__name__, "Exception")}
    if isinstance(exc, SystemExit):
        info["exit_code"] = _safe(lambda: repr(exc.code), "?")
    info["message"] = _safe(lambda: str(exc), "")[:_MAX_TEXT]
    if isinstance(exc, SyntaxError):
        info["message"] = _safe(lambda: exc.msg, "")[:_MAX_TEXT]
        info["line"] = _safe(lambda: exc.lineno, "?")
        info["code"] = _safe(lambda: (exc.text or "").strip(), "")[:200]
    frames = []
    try:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == filename:
                frames.append({"line": frame.lineno, "code": (frame.line or "")[:200]})
    except Exception:
        pass
    info["frames"] = frames[-_MAX_FRAMES:]
    return info


def _safe(get: Any, default: str) -> str:
    try:
        return str(get())
    except BaseException:
        return default


# -- process set-up ---------------------------------------------------------------


def _reset_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def _close_other_fds(keep: set[int]) -> None:
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 256))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _confine(settings: dict) -> None:
    """Scratch dir, quiet stdio, minimal environment, limits, unprivileged user."""
    scratch = settings["scratch"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    out = os.open(os.path.join(scratch, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(devnull)
    os.close(out)
    os.chdir(scratch)
    keep = {k: v for k, v in os.environ.items() if k.startswith(("CUDA_", "NVIDIA_"))}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update(
        {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8"}
    )
    os.umask(0o077)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, settings.get("fsize_mb", 16) << 20)
    _limit(resource.RLIMIT_NOFILE, 256)
    cpu = int(settings.get("cpu_seconds", 0))
    if cpu:
        _limit(resource.RLIMIT_CPU, cpu)
    address_space = settings.get("address_space")
    if address_space:
        _limit(resource.RLIMIT_AS, int(address_space))
    uid = settings.get("uid")
    if uid is not None and os.getuid() == 0:
        _limit(resource.RLIMIT_NPROC, int(settings.get("nproc", 64)))
        os.setgroups([])
        os.setgid(int(settings["gid"]))
        os.setuid(int(uid))


def _limit(which: int, value: int) -> None:
    try:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        pass


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = _write(fd, view)
        view = view[written:]
