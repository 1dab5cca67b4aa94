"""Machine-wide leases on the unprivileged user ids that workers run as.

When the grader runs as root, each worker runs as its own uid so that, after the
job, every process of that uid can be killed (setsid escapees included). Several
graders may run on one machine at once (a class's batch, a learner's watch mode,
parallel tests), so a uid is leased with an exclusive ``flock`` on a file under
``/tmp``: no two live jobs anywhere on the machine share a uid.

``clear_uid`` ends a job: it kills every process of the uid and removes what the
uid left in the machine's shared temporary places (files in /tmp, /var/tmp,
/dev/shm, System V shared memory, semaphores and message queues).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import random
import shutil
import signal
import stat
import tempfile
import time

BASE = 61000
COUNT = 4000
LOCK_DIR = "/tmp/.autograd-grader-uids"
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")
_IPC_RMID = 0


class UidLease:
    """An exclusive lease on one uid; ``release`` (or process exit) ends it."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def lease_uid() -> UidLease:
    """Lease a free uid in [BASE, BASE + COUNT)."""
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    info = os.lstat(LOCK_DIR)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{LOCK_DIR} must be a folder of this user that no one else can write")
    start = random.randrange(COUNT)
    for i in range(COUNT):
        uid = BASE + (start + i) % COUNT
        fd = os.open(os.path.join(LOCK_DIR, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise RuntimeError("no free sandbox uid")


def clear_uid(uid: int) -> None:
    """Kill every process of ``uid`` (setsid escapees included) and remove its
    leftovers. Runs as root, in the grader: it signals only processes whose uid
    is ``uid`` and deletes only files and IPC objects that ``uid`` owns."""
    _kill_all(uid)
    _remove_files(uid)
    _remove_ipc(uid)


def _kill_all(uid: int) -> None:
    """SIGKILL every live process of ``uid`` until none is left.

    A process can fork between the scan and the kill; the next round finds the
    child. The sandbox's process limit (RLIMIT_NPROC) bounds how many there are.
    """
    for _ in range(200):
        found = _live_processes_of(uid)
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        time.sleep(0.001)


def _live_processes_of(uid: int) -> list[int]:
    """Processes (not zombies) whose real, effective or saved uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        uids = fields.get("Uid", "").split()[:3]
        if str(uid) in uids and not fields.get("State", "").strip().startswith(("Z", "X")):
            found.append(int(entry))
    return found


def _remove_files(uid: int) -> None:
    for folder in dict.fromkeys((tempfile.gettempdir(), *SHARED_TEMP)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    _remove_tree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def _remove_tree(path: str) -> None:
    """Remove a folder the user owns, even one whose subfolders it made unwritable."""
    try:
        shutil.rmtree(path)
        return
    except OSError:
        pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        return
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            try:
                os.chmod(os.path.join(root, name), 0o700)
            except OSError:
                continue
    shutil.rmtree(path, ignore_errors=True)


def _remove_ipc(uid: int) -> None:
    """Remove System V IPC objects of ``uid`` (they outlive processes)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    removers = {
        "shm": ("shmid", lambda i: libc.shmctl(i, _IPC_RMID, None)),
        "sem": ("semid", lambda i: libc.semctl(i, 0, _IPC_RMID)),
        "msg": ("msqid", lambda i: libc.msgctl(i, _IPC_RMID, None)),
    }
    for kind, (id_column, remove) in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header, *rows = fh.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        for row in rows:
            fields = dict(zip(columns, row.split(), strict=False))
            if fields.get("uid") == str(uid):
                remove(int(fields.get(id_column, "-1")))
