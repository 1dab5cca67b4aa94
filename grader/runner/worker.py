"""The learner's side of the sandbox: runs in a worker forked from the zygote.

It locks itself down (scratch directory, minimal environment, resource limits,
an unprivileged user when the grader runs as root), runs the exercise's probe on
every case, and writes back one length-prefixed ``wire`` message per case as soon
as it is recorded. Everything the learner's code raises, even ``SystemExit`` or
``KeyboardInterrupt``, is recorded as data; nothing it prints reaches the grader's
output. Before each call and right after it, ``reset.Snapshot`` undoes what the
learner's code changed in this process (monkeypatches, torch modes, hooks).
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import linecache
import os
import resource
import signal
import struct
import sys
import types
from collections.abc import Callable
from typing import Any

import torch

from grader import registry
from grader.cases import unpack
from grader.runner import devicewatch, optimwatch, wire
from grader.runner.health import Health
from grader.runner.namespaces import SETUP_FAILED, Isolation, drop_capabilities, isolate_worker
from grader.runner.observe import Recorder
from grader.runner.preload import preload
from grader.runner.reset import Snapshot, ThreadsLeft, block_audit_hooks
from grader.text_safety import MAX_NAME, clean

_write = os.write
_exit = os._exit
_pack = struct.pack
_set_grad_enabled = torch._C._set_grad_enabled
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_MAX_TEXT = 600
_MAX_FRAMES = 8


def prepare_zygote() -> Callable[[int, int, dict], None]:
    """Done once in the zygote for all its workers: import what sending an answer
    needs, find what the optimizer watch wraps, and take the snapshot of the
    trusted state (workers on the CPU reuse it). The device watch's wrappers of
    torch.from_numpy and torch.frombuffer go in first, so the snapshot keeps them."""
    devicewatch.install()
    wire.encode({"f": torch.zeros(1), "d": torch.zeros(1, dtype=torch.float64)}, {})
    optim = optimwatch.targets()
    # As root, workers switch to a user who may not walk the path to the Python
    # installation: open the import folders once, here, for all of them.
    reachable = _keep_imports_reachable() if os.getuid() == 0 else frozenset()
    return functools.partial(worker_main, world=Snapshot(), optim=optim, reachable=reachable)


def worker_main(
    job_fd: int,
    result_fd: int,
    settings: dict,
    world: Snapshot | None = None,
    optim: list[optimwatch.Target] | None = None,
    reachable: frozenset[int] | None = None,
) -> None:
    """Entry point of a worker process (never returns). ``reachable``: the import
    folders the zygote opened (``_keep_imports_reachable``); None: not done yet."""
    _reset_signals()
    _close_other_fds(keep={job_fd, result_fd, *(reachable or ())})
    os.set_inheritable(result_fd, False)
    blob = _read_all(job_fd)
    os.close(job_fd)
    tensors, doc = wire.decode(blob)
    known = len(sys.modules)
    for job in doc.get("exercises", []):
        try:
            preload(str(job.get("source", "")))  # as the grader: the sandbox user may not read them
        except Exception:
            pass  # a source that cannot even be parsed fails when it is compiled
    if len(sys.modules) != known:
        world = None  # new modules may have changed guarded classes: snapshot afresh
    jobs = doc.get("exercises") or [{}]
    _confine(
        settings,
        beside=os.path.dirname(str(jobs[0].get("filename", ""))),
        imports_reachable=reachable is not None,
    )
    torch.set_num_threads(1)
    # Import now what sending an answer needs, while files can still be opened.
    wire.encode({"f": torch.zeros(1), "d": torch.zeros(1, dtype=torch.float64)}, {})
    run_exercises(
        doc,
        tensors,
        Frames(result_fd),
        data_mb=settings.get("data_mb"),
        cpu_seconds=int(settings.get("cpu_seconds", 0)),
        world=world,
        optim=optimwatch.targets() if optim is None else optim,
    )
    _exit(0)


class Frames:
    """Writes length-prefixed ``wire`` messages to the grader, one per case.

    Each case's answer leaves the process as soon as it is recorded, so code the
    learner runs later (the next case's call) cannot change it.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def event(self, kind: str, name: str) -> None:
        """Report something the learner's code did (``optimizer``: a torch.optim
        function ran) the moment it happens."""
        self.send({}, {"event": kind, "name": name})

    def send(self, tensors: dict, doc: dict[str, Any]) -> None:
        try:
            message = wire.encode(tensors, doc)
        except Exception as exc:
            why = str(exc)[:200]  # our own data failed to encode: not learner code
            message = wire.encode({}, {"status": "bad_output", "why": why})
        _write_all(self._fd, _pack("<Q", len(message)) + message)


def run_exercises(
    doc: dict[str, Any],
    tensors: dict,
    out: Frames,
    data_mb: int | None = None,
    cpu_seconds: int = 0,
    world: Snapshot | None = None,
    optim: list[optimwatch.Target] = (),  # type: ignore[assignment]
) -> None:
    """Grade one learner's exercises in turn (``doc["exercises"]``, tensors keyed
    ``<exercise>/<case>/<name>``).

    Frames: ``ready`` once, then for each exercise ``begin``, one frame per case
    and a closing frame (``status`` ok, or why its cases could not run), and
    finally ``done``. Uses of torch.optim are sent as ``event`` frames when they
    happen. Before each exercise after the first, ``Health`` checks that the
    earlier files left nothing the undo cannot restore; if they did, the worker
    sends ``stop`` and ends, and the grader gives the rest fresh workers. A file
    that leaves a thread running or exhausts memory ends the worker too.
    """
    devicewatch.install()  # done already where the zygote prepared the worker
    jobs = list(doc["exercises"])
    cases = [unpack(_prefixed(tensors, f"{e}/"), job["cases"]) for e, job in enumerate(jobs)]
    if _start_devices([c for found in cases for c in found]) or world is None:
        world = Snapshot()  # CUDA's start-up changes torch's state: take it as it is now
    block_audit_hooks(world)  # before any learner code, over the final snapshot
    if data_mb:  # what this process holds now (CUDA included), plus the learner's share
        _limit(resource.RLIMIT_DATA, _status_kb("VmData") * 1024 + (int(data_mb) << 20))
    if cpu_seconds:  # CPU time from here on: starting up (CUDA included) is not the learner's
        _limit(resource.RLIMIT_CPU, _cpu_used() + 1 + cpu_seconds * len(jobs))
    kept: list[Any] = []  # learner objects stay alive: no finalizer of theirs runs later
    optim_reported = optimwatch.install(functools.partial(out.event, "optimizer"), list(optim))
    health = Health()
    out.send({}, {"status": "ready"})  # the grader measures memory and time from here on
    for e, job in enumerate(jobs):
        if e and not health.holds():
            return out.send({}, {"status": "stop"})
        if cpu_seconds:  # this exercise's share (the hard limit covers them all)
            _soft_limit(resource.RLIMIT_CPU, _cpu_used() + 1 + cpu_seconds)
        optim_reported.clear()  # each file's first use of torch.optim is reported
        out.send({}, {"begin": e})
        if not run_exercise(job, cases[e], out, world, kept):
            return  # the worker cannot go on (a thread left running, out of memory)
    out.send({}, {"status": "done"})


def run_exercise(
    job: dict[str, Any], cases: list, out: Frames, world: Snapshot, kept: list[Any]
) -> bool:
    """Load one learner file and probe every case, sending one frame per case and a
    closing frame. Whether the worker may go on to the learner's next file."""
    exercise = registry.BY_NAME[job["exercise"]]
    probe = importlib.import_module(exercise.check_module).probe  # bound before learner code
    filename = job["filename"]
    try:
        namespace = load_source(job["source"], filename, exercise.stem)
        world.settle()
    except ThreadsLeft:
        out.send({}, {"status": "threads"})
        return False
    except BaseException as exc:
        kept.append(exc)
        failure = _failure("import_error", exc, filename)
        world.restore()
        out.send({}, failure)
        return failure["status"] != "memory"
    finally:
        sys.modules.pop(exercise.stem, None)  # the next file is a module of its own
    kept.append(namespace)
    fn = namespace.get(exercise.name)
    if not callable(fn):
        defined = sorted(
            k
            for k, v in namespace.items()
            if type(k) is str and callable(v) and not k.startswith("_")
        )
        shown = [clean(name, MAX_NAME) for name in defined[:12]]
        out.send({}, {"status": "missing_function", "defined": shown})
        return True
    for index, case in enumerate(cases):
        live = case.materialize()
        rec = Recorder(watch_device=bool(live.meta.get("watch_device")), settle=world.settle)
        kept.append((live, rec.kept))
        # No restore here: load_source and every call already ended with one.
        _set_grad_enabled(bool(live.meta.get("grad_mode", True)))
        entry: dict[str, Any] = {"status": "ok"}
        try:
            probe(fn, live, rec)
        except ThreadsLeft:
            out.send({}, {"status": "threads"})
            return False
        except BaseException as exc:  # the learner's exception is data, whatever it is
            kept.append(exc)
            oom = _out_of_memory(exc)
            entry = {"status": "raised", "error": describe_exception(exc, filename)}
            world.restore()
            if oom:
                out.send({}, {"status": "memory"})
                return False
        finally:
            _set_grad_enabled(True)
        entry["facts"] = rec.facts
        out.send(rec.tensors, {"case": index, **entry})
    out.send({}, {"status": "ok", "cases": len(cases)})
    return True


def _prefixed(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: t for k, t in tensors.items() if k.startswith(prefix)}


def _cpu_used() -> int:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return int(used.ru_utime + used.ru_stime)


def _soft_limit(which: int, value: int) -> None:
    """Move the soft limit (never above the hard one, which only goes down)."""
    try:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass


def _start_devices(cases: list) -> bool:
    """Set up CUDA (context, cuBLAS) before the learner's code runs, so that the
    hundreds of megabytes this takes count as the grader's, not the learner's.
    Whether there was a device to set up."""
    devices = sorted({c.device for c in cases} - {"cpu", "meta"})
    for device in devices:
        try:
            ones = torch.ones(2, 2, device=device, requires_grad=True)
            (ones @ ones).sum().backward()
        except Exception:
            pass  # the learner's calls will fail on this device with a clear error
    return bool(devices)


def _failure(status: str, exc: BaseException, filename: str) -> dict[str, Any]:
    if _out_of_memory(exc):
        return {"status": "memory"}
    return {"status": status, "error": describe_exception(exc, filename)}


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or torch's allocator failing under the address-space limit."""
    kind = type(exc)
    if kind is MemoryError:
        return True
    return kind is RuntimeError and "can't allocate memory" in _safe(lambda: exc, "")


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
    info: dict[str, Any] = {"type": _safe(lambda: clean(type(exc).__name__, MAX_NAME), "Exception")}
    if isinstance(exc, SystemExit):
        info["exit_code"] = _safe(lambda: clean(repr(exc.code), MAX_NAME), "?")
    info["message"] = _safe(lambda: clean(str(exc), _MAX_TEXT), "")
    if isinstance(exc, SyntaxError):
        info["message"] = _safe(lambda: clean(str(exc.msg), _MAX_TEXT), "")
        info["line"] = _safe(lambda: exc.lineno, "?")
        info["code"] = _safe(lambda: clean((exc.text or "").strip(), 200), "")
    frames = []
    try:  # only the learner's own frames: reading torch's source lines would cost more
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                code = linecache.getline(filename, tb.tb_lineno).strip()
                frames.append({"line": tb.tb_lineno, "code": code[:200]})
            tb = tb.tb_next
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


def _confine(settings: dict, beside: str = "", imports_reachable: bool = False) -> None:
    """Namespaces, scratch dir, no stdio, minimal environment, limits, unprivileged
    user. ``beside``: the submission's folder (stays readable, never writable)."""
    scratch = settings["scratch"]
    root = os.getuid() == 0
    isolation = Isolation.from_dict(settings.get("isolation") or {"root": root})
    uid = settings.get("uid")
    switch = uid is not None and root
    tasks = 0 if root else _tasks_of(os.getuid())  # while /proc still shows them all
    try:
        isolate_worker(
            isolation,
            scratch=scratch,
            readable=beside,
            before_hiding=_keep_imports_reachable if switch and not imports_reachable else None,
        )
    except OSError:
        _exit(SETUP_FAILED)  # never run learner code with less than was announced
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # prints go nowhere: a flood cannot fill a disk or reach the report
        os.dup2(devnull, fd)
    os.close(devnull)
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
    address_space_mb = settings.get("address_space_mb")
    if address_space_mb:  # what this process holds now, plus the learner's share
        _limit(resource.RLIMIT_AS, _virtual_size() + (int(address_space_mb) << 20))
    nproc = int(settings.get("nproc", 64))
    if switch:
        _limit(resource.RLIMIT_NPROC, nproc)
        os.setgroups([])
        os.setgid(int(settings["gid"]))
        os.setuid(int(uid))
    elif not root:  # the count covers all of this user's processes and threads
        _limit(resource.RLIMIT_NPROC, tasks + nproc)
    if isolation.user_namespace:
        drop_capabilities()
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)  # no setuid program can give privileges back
    _prctl(_PR_SET_DUMPABLE, 0)  # its processes cannot ptrace or read the memory of this one


def _keep_imports_reachable() -> frozenset[int]:
    """Let lazy imports work after the switch to the sandbox user; returns the open
    folders, which must stay open.

    The Python installation may sit below a folder that only root may enter (a
    pyenv under /root, say): the files are world-readable, the path to them is
    not. Each import folder is opened now, as root, and named through
    /proc/self/fd, which reaches the folder without walking the path above it
    (and keeps reaching it in a worker's own mount namespace and /proc).
    Nothing becomes readable that was not already readable to everyone. The zygote
    does this once for all its workers (about 10 ms each, as it writes to every
    module object).
    """
    folders: dict[str, str] = {}
    for entry in dict.fromkeys(sys.path):
        if entry and os.path.isdir(entry) and not entry.startswith("/proc/"):
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                continue
            folders[entry.rstrip("/")] = f"/proc/self/fd/{fd}"
    sys.path[:] = [folders.get(e.rstrip("/"), e) if e else e for e in sys.path]
    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if type(paths) is not list:
            continue
        for i, path in enumerate(paths):
            for folder, handle in folders.items():
                if path == folder or path.startswith(folder + "/"):
                    paths[i] = handle + path[len(folder) :]
                    break
    sys.path_importer_cache.clear()
    return frozenset(int(handle.rsplit("/", 1)[1]) for handle in folders.values())


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _virtual_size() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _tasks_of(uid: int) -> int:
    """How many processes and threads ``uid`` runs now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return count


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
