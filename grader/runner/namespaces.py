"""Linux namespaces around learners' code: no network, a read-only filesystem with
private temporary folders, only its own processes and IPC.

Built with ``unshare(2)``, ``setns(2)``, ``clone(2)`` and ``mount(2)`` through
ctypes (Python 3.10 and 3.11 have no ``os.unshare``); nothing to install. Three
levels, so that what can be shared is made once:

- **The zygote** (``isolate_zygote``, once per ``Sandbox``). As an ordinary user it
  first enters a user namespace that maps only that user (``setgroups`` denied).
  It enters an empty network namespace, shared by all its workers: no interface is
  up, not even loopback, so every connect fails at once. It then forks the real
  zygote as PID 1 of a new PID namespace with its own /proc: from there it may
  make a fresh PID namespace for every worker and come back, which an ordinary
  user may do only in PID namespaces that its user namespace owns. The process
  ``grade`` forked waits for it and passes on its exit status.
- **Each worker's PID namespace** (``PidNamespaces``, in the zygote, per worker).
  Its PID 1 is a placeholder: ``sleep`` run by a ``clone`` that shares the
  zygote's memory, so it costs no copy of torch's pages. The worker is forked into
  it as PID 2 (a PID 1 would ignore its own SIGABRT and SIGXCPU). Orphans go to
  the placeholder; when the worker ends, the zygote kills the placeholder and
  the kernel kills everything left in the namespace. The placeholder's sleep
  bounds the life of everything in it, even if the zygote itself is killed.
- **The worker** (``isolate_worker``, in ``worker._confine``; the mounts are in
  ``mounts``). Its own mount and IPC namespaces: every mount read-only, a
  private tmpfs on /tmp, /var/tmp and /dev/shm, the scratch folder bound back
  writable (HOME points there), the submission's folder and import folders
  below /tmp bound back read-only, and a /proc of its own PID namespace. As an
  ordinary user it then gives up the capabilities it holds in its user
  namespace.

What could not be set up is left out and named: ``Isolation`` says which
protections hold, for reports and ``grade doctor``. Workers never run with less
than the zygote announced: a worker whose set-up fails exits (status 71) before
any learner code runs. ``GRADE_SANDBOX_SKIP`` (comma-separated: user, network,
filesystem, processes, ipc, or all) leaves protections out, to see how ``grade``
behaves on a kernel without them.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.runner.mounts import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    bind,
    checked,
    hidden,
    mount,
    mountinfo,
    open_path,
    private_temporary_folders,
    readonly_everything,
    set_readonly,
    umount,
)

CLONE_VM = 0x00000100
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000


_CAP_VERSION_3 = 0x20080522
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4

SKIP_ENV = "GRADE_SANDBOX_SKIP"
PROTECTIONS = ("network", "filesystem", "processes", "ipc", "uid")
NAMESPACED = ("network", "filesystem", "processes", "ipc")
SETUP_FAILED = 71  # a worker's exit status when its isolation could not be set up
_LIFETIME = 3600  # seconds a worker's PID namespace lives at most (zygote gone)
_INIT_STACK = 64 << 10

_libc = ctypes.CDLL(None, use_errno=True)


# -- what holds ----------------------------------------------------------------------


@dataclass
class Isolation:
    """The protections every worker of one zygote gets, and why any is missing."""

    root: bool  # grade runs as root: each worker also runs as a user id of its own
    user_namespace: bool = False  # an ordinary user's zygote is in a user namespace
    network: bool = False
    filesystem: bool = False
    processes: bool = False
    ipc: bool = False
    why: dict[str, str] = field(default_factory=dict)  # protection -> why it is missing
    # import folders (a virtual environment or a checkout below /tmp) that the
    # private temporary folders would hide: every worker binds them back, read-only
    import_folders: list[str] = field(default_factory=list)

    def holds(self) -> list[str]:
        return [p for p in PROTECTIONS if self._has(p)]

    def missing(self) -> list[str]:
        """What the full sandbox of this kind of user would have and this one lacks.
        A user id of its own is only possible as root, so it is never missing for an
        ordinary user."""
        expected = PROTECTIONS if self.root else NAMESPACED
        return [p for p in expected if not self._has(p)]

    def _has(self, protection: str) -> bool:
        return self.root if protection == "uid" else bool(getattr(self, protection))

    def report(self) -> dict[str, Any]:
        """The ``"sandbox"`` entry of a report."""
        return {
            "runs_as": "root" if self.root else "user",
            "holds": self.holds(),
            "missing": self.missing(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "user_namespace": self.user_namespace,
            **{p: bool(getattr(self, p)) for p in NAMESPACED},
            "why": dict(self.why),
            "import_folders": list(self.import_folders),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Isolation:
        return cls(
            root=bool(doc.get("root")),
            user_namespace=bool(doc.get("user_namespace")),
            **{p: bool(doc.get(p)) for p in NAMESPACED},
            why={str(k): str(v) for k, v in dict(doc.get("why") or {}).items()},
            import_folders=[str(p) for p in doc.get("import_folders") or []],
        )

    def lack(self, protection: str, why: str) -> None:
        setattr(self, protection, False)
        self.why.setdefault(protection, why)


def requested_skips(environ: dict[str, str] | None = None) -> set[str]:
    """Protections ``GRADE_SANDBOX_SKIP`` leaves out ("user": as if the kernel allowed
    no user namespaces)."""
    env = os.environ if environ is None else environ
    words = {w.strip().lower() for w in env.get(SKIP_ENV, "").split(",") if w.strip()}
    if "all" in words:
        return {"user", *NAMESPACED}
    return words & {"user", *NAMESPACED}


# -- system calls ----------------------------------------------------------------------


def unshare(flags: int) -> None:
    checked(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    checked(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def drop_capabilities() -> None:
    """Give up every capability (those an ordinary user holds in its own user
    namespace): no more mounts, namespaces of its own or changes of ownership."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header = Header(_CAP_VERSION_3, 0)
    data = (Data * 2)()
    checked(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


# -- the zygote -------------------------------------------------------------------------


def isolate_zygote(close_in_waiter: list[int]) -> Isolation:
    """Put the calling process (just forked from the grader, single-threaded) in the
    namespaces its workers share, and return what holds.

    When PID namespaces are possible this forks: the caller stays behind as a
    waiter that exits with the zygote's status (``close_in_waiter`` are fds it
    must not keep), and the function returns in the new zygote, PID 1 of its own
    PID namespace. Failures are recorded, never raised.
    """
    skip = requested_skips()
    iso = Isolation(root=os.geteuid() == 0)
    if not iso.root:
        if "user" in skip:
            _lack_all(iso, f"user namespaces skipped ({SKIP_ENV})")
            return iso
        try:
            _enter_user_namespace()
            iso.user_namespace = True
        except OSError as exc:
            _lack_all(iso, f"no user namespace: {exc.strerror}")
            return iso
    for protection in NAMESPACED:
        setattr(iso, protection, protection not in skip)
        if protection in skip:
            iso.why[protection] = f"skipped ({SKIP_ENV})"
    if iso.network:
        try:
            unshare(CLONE_NEWNET)
        except OSError as exc:
            iso.lack("network", f"no network namespace: {exc.strerror}")
    if iso.processes:
        reason = _why_no_pid_namespaces(iso)
        if not reason:
            try:
                _become_pid_one(close_in_waiter)  # returns in the new zygote only
            except OSError as exc:
                reason = f"no PID namespace: {exc.strerror}"
        if reason:
            iso.lack("processes", reason)
    if iso.filesystem:
        why = _why_no_mounts(iso.processes)
        if why:
            iso.lack("filesystem", why)
    if iso.ipc:
        try:
            unshare(CLONE_NEWIPC)  # the zygote's own; each worker gets another
        except OSError as exc:
            iso.lack("ipc", f"no IPC namespace: {exc.strerror}")
    _reset_python_signal_handlers()
    return iso


def _lack_all(iso: Isolation, why: str) -> None:
    for protection in NAMESPACED:
        iso.lack(protection, why)


def _enter_user_namespace() -> None:
    """A user namespace that maps only this user (and its group), with setgroups
    denied. /proc/self of a non-dumpable process (the grader makes itself one)
    belongs to root, so the maps are written while dumpable."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    dumpable = _libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1\n"),
            ("gid_map", f"{gid} {gid} 1\n"),
        ):
            fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
    finally:
        _libc.prctl(_PR_SET_DUMPABLE, max(dumpable, 0), 0, 0, 0)


def _why_no_pid_namespaces(iso: Isolation) -> str:
    """Why the zygote cannot make a PID namespace per worker ('' when it can)."""
    if not hasattr(os, "pidfd_open"):
        return "no pidfd_open (Linux 5.3 or newer is needed)"
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError as exc:
        return f"no pidfd_open: {exc.strerror}"
    if iso.user_namespace or not _initial_user_namespace():
        # In a user namespace the kernel mounts a new /proc only where the existing
        # one is fully visible (no file or folder of it covered by another mount).
        for line in mountinfo():
            if line[4].startswith("/proc/"):
                return f"/proc has mounts inside it ({line[4]}): a new /proc is refused"
    return ""


def _initial_user_namespace() -> bool:
    """Whether this process is in the machine's own user namespace (a root inside a
    rootless container is not)."""
    try:
        with open("/proc/self/uid_map") as fh:
            return fh.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return True


_host_proc = -1  # the grader's /proc, kept by the zygote to name workers' host pids


def _become_pid_one(close_in_waiter: list[int]) -> None:
    """Fork into a new PID namespace, as its PID 1, with a mount namespace and a
    /proc of its own; the parent waits and exits with the child's status.

    Once the namespace exists there is no way back (the parent's next child would
    land in it too), so a failure after that point ends the process: no worker
    may run with a /proc that shows other processes than its namespace's."""
    global _host_proc
    host_proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        unshare(CLONE_NEWPID)
    except OSError:
        os.close(host_proc)
        raise
    try:
        child = os.fork()
        if child == 0:
            try:
                unshare(CLONE_NEWNS)
                mount(None, "/", None, MS_REC | MS_PRIVATE)
                _mount_own_proc()
            except BaseException:
                os._exit(SETUP_FAILED)
            _host_proc = host_proc
            return
    except BaseException:
        os._exit(SETUP_FAILED)
    # The waiter: holds nothing the grader waits on, ignores Ctrl-C as the zygote does.
    for fd in close_in_waiter:
        os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = 1
    try:
        _pid, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
    finally:
        os._exit(code if 0 <= code < 256 else 1)


def _mount_own_proc() -> None:
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if os.statvfs("/proc").f_flag & os.ST_RDONLY:
        flags |= MS_RDONLY
    mount("proc", "/proc", "proc", flags)


def _why_no_mounts(own_proc: bool) -> str:
    """Try, in this process's own mount namespace, what each worker will do: a tmpfs,
    a bind mount, making a mount read-only and writable again."""
    try:
        if not own_proc:  # PID 1 already has a mount namespace of its own
            unshare(CLONE_NEWNS)
            mount(None, "/", None, MS_REC | MS_PRIVATE)
        place = tempfile.mkdtemp(prefix="grade-probe-")
    except OSError as exc:
        return f"no mount namespace: {exc.strerror}"
    try:
        mount("tmpfs", place, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=700")
        try:
            os.mkdir(f"{place}/a")
            mount(f"{place}/a", f"{place}/a", None, MS_BIND)
            set_readonly(f"{place}/a", readonly=True)
            set_readonly(f"{place}/a", readonly=False)
            umount(f"{place}/a")
        finally:
            umount(place)
    except OSError as exc:
        return f"mounts refused: {exc.strerror}"
    finally:
        try:
            os.rmdir(place)
        except OSError:
            pass
    return ""


def _reset_python_signal_handlers() -> None:
    """Placeholders cloned from the zygote keep its signal dispositions; with none
    handled in Python, a learner's signal to PID 1 of its namespace is dropped by
    the kernel instead of running the zygote's handler in shared memory."""
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else signal.SIG_DFL)
        except (OSError, ValueError, TypeError):
            continue


# -- one PID namespace per worker (in the zygote) ------------------------------------


_libc.clone.restype = ctypes.c_int
_libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]


class PidNamespaces:
    """The zygote's side of the workers' PID namespaces."""

    def __init__(self, active: bool, lifetime: int = _LIFETIME) -> None:
        self.active = active
        self._lifetime = lifetime
        self._inits: dict[int, Any] = {}  # placeholder pid -> its stack
        self._init_of: dict[int, int] = {}  # worker pid -> its placeholder's pid
        self._own = -1
        if active:
            self._own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)

    def enter_new(self, lifetime: int = 0) -> int:
        """Make a PID namespace with a placeholder PID 1 that lives at most
        ``lifetime`` seconds (at least an hour); the next fork lands in it.
        Returns the placeholder's pid (0 when namespaces are not used)."""
        if not self.active:
            return 0
        stack = ctypes.create_string_buffer(_INIT_STACK)
        top = (ctypes.addressof(stack) + _INIT_STACK) & ~0xF
        sleep = ctypes.cast(_libc.sleep, ctypes.c_void_p)
        flags = CLONE_VM | CLONE_NEWPID | signal.SIGCHLD
        seconds = max(self._lifetime, int(lifetime))
        init = checked(_libc.clone(sleep, top, flags, ctypes.c_void_p(seconds)), "clone")
        self._inits[init] = stack
        # Entering a namespace through a process needs ptrace access to it, which
        # an ordinary user lacks while the zygote (and so the placeholder, which
        # shares its memory) is not dumpable: dumpable for these two calls. No
        # worker can see the zygote's pid to make use of it.
        dumpable = _libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
        _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            fd = os.open(f"/proc/{init}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(fd, CLONE_NEWPID)
            finally:
                os.close(fd)
        except OSError:
            self._kill(init)
            raise
        finally:
            _libc.prctl(_PR_SET_DUMPABLE, max(dumpable, 0), 0, 0, 0)
        return init

    def leave(self, worker: int, init: int) -> None:
        """After the fork (``worker`` < 0: it failed): later forks land in the
        zygote's own namespace again."""
        if init:
            setns(self._own, CLONE_NEWPID)
            if worker > 0:
                self._init_of[worker] = init
            else:
                self._kill(init)

    def host_pid(self, pid: int) -> int:
        """``pid`` (numbered in this namespace) as the grader numbers it."""
        if not self.active or _host_proc < 0:
            return pid
        pidfd = os.pidfd_open(pid)
        try:
            fd = os.open(f"self/fdinfo/{pidfd}", os.O_RDONLY, dir_fd=_host_proc)
            try:
                info = os.read(fd, 4096).decode()
            finally:
                os.close(fd)
        finally:
            os.close(pidfd)
        for line in info.splitlines():
            if line.startswith("Pid:"):
                return int(line.split()[1])
        raise OSError(errno.ESRCH, "no host pid")

    def worker_ended(self, worker: int) -> None:
        """Kill the worker's placeholder: the kernel kills what is left in its namespace."""
        init = self._init_of.pop(worker, 0)
        if init:
            self._kill(init)

    def reaped(self, pid: int) -> None:
        self._inits.pop(pid, None)

    def is_placeholder(self, pid: int) -> bool:
        return pid in self._inits

    def placeholders(self) -> list[int]:
        return list(self._inits)

    @staticmethod
    def _kill(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# -- the worker ------------------------------------------------------------------------


def isolate_worker(
    iso: Isolation,
    *,
    scratch: str,
    readable: str = "",
    before_hiding: Callable[[], None] | None = None,
) -> None:
    """Mount and IPC namespaces of the calling worker (still privileged: root, or an
    ordinary user in its user namespace), as ``iso`` announced; raises OSError on
    any failure. ``readable``: a folder (the submission's) that stays visible,
    read-only, where a private temporary folder would hide it; so do the hidden
    import folders ``iso`` names. ``before_hiding`` runs once every mount is
    read-only, before anything is hidden."""
    flags = (CLONE_NEWNS if iso.filesystem else 0) | (CLONE_NEWIPC if iso.ipc else 0)
    if flags:
        unshare(flags)
    if not iso.filesystem:
        if before_hiding:
            before_hiding()
        return
    shown = sorted(
        {
            os.path.normpath(os.path.abspath(p))
            for p in [readable, *iso.import_folders]
            if p and hidden(p) and os.path.isdir(p)
        }
    )
    fds: dict[str, int] = {}
    try:
        fds[scratch] = open_path(scratch)
        for folder in shown:
            fds[folder] = open_path(folder)
        readonly_everything()
        if before_hiding:
            before_hiding()
        if iso.processes:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
        private_temporary_folders()
        for folder in shown:  # outer folders first
            bind(fds[folder], folder, writable=False)
        bind(fds[scratch], scratch, writable=True)
    finally:
        for fd in fds.values():
            os.close(fd)
    os.chdir(scratch)
