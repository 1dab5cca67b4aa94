"""Mounts of a worker's mount namespace: every mount read-only, one private tmpfs
shown at /tmp, /var/tmp and /dev/shm, folders bound back at their own paths.

Through ctypes on ``mount(2)``, ``umount2(2)`` and, on Linux 5.12+,
``mount_setattr(2)``. ``namespaces.isolate_worker`` puts them together.
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import Any

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2

# mount_setattr(2), Linux 5.12+: the same number on every architecture
_SYS_MOUNT_SETATTR = 442
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1

HIDDEN = ("/tmp", "/var/tmp", "/dev/shm")  # private tmpfs in every worker
TEMP_MB = 64  # the private temporary folders together (RAM)


_libc = ctypes.CDLL(None, use_errno=True)


def checked(result: int, what: str) -> int:
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    checked(
        _libc.mount(
            os.fsencode(source) if source is not None else None,
            os.fsencode(target),
            fstype.encode() if fstype is not None else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def umount(target: str) -> None:
    checked(_libc.umount2(os.fsencode(target), ctypes.c_int(MNT_DETACH)), f"umount {target}")


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _mount_setattr(path: str, *, recursive: bool, readonly: bool) -> None:
    attr = _MountAttr(_MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else _MOUNT_ATTR_RDONLY)
    flags = _AT_RECURSIVE if recursive else 0
    checked(
        _libc.syscall(
            ctypes.c_long(_SYS_MOUNT_SETATTR),
            ctypes.c_int(_AT_FDCWD),
            os.fsencode(path),
            ctypes.c_uint(flags),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        ),
        f"mount_setattr {path}",
    )


def mountinfo() -> list[list[str]]:
    try:
        with open("/proc/self/mountinfo") as fh:
            return [line.split() for line in fh if line.strip()]
    except OSError:
        return []


def hidden_import_folders(modules: dict[str, Any], path: list[str]) -> list[str]:
    """Import folders that a private temporary folder would hide (a virtual
    environment or an editable checkout below /tmp), outermost only. Found once,
    in the zygote; binding them back at the same path keeps every module's path
    valid, so lazy imports and libraries found relative to them still work."""
    folders = [p for p in path if isinstance(p, str)]
    for module in list(modules.values()):
        found = getattr(module, "__path__", None)
        if type(found) is list:
            folders.extend(p for p in found if isinstance(p, str))
    covered = sorted(
        {
            os.path.normpath(os.path.abspath(p))
            for p in folders
            if p and not p.startswith("/proc/") and hidden(p) and os.path.isdir(p)
        }
    )
    outermost: list[str] = []
    for folder in covered:
        if not any(folder.startswith(outer + "/") for outer in outermost):
            outermost.append(folder)
    return outermost


def open_path(path: str) -> int:
    return os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


def hidden(path: str) -> bool:
    """Whether ``path`` lies below a folder that the private temporary folders cover
    (and so must be bound back to stay visible). The covered folders themselves are
    not: binding the machine's /tmp back over the private one would undo it (a
    script run from /tmp puts /tmp itself on sys.path)."""
    roots = {*HIDDEN, *(os.path.realpath(h) for h in HIDDEN)}
    forms = {os.path.abspath(path), os.path.realpath(path)}
    if forms & roots:
        return False
    return any(p.startswith(r + "/") for p in forms for r in roots)


def readonly_everything(use_setattr: bool = True) -> None:
    """Every mount of this mount namespace read-only: one mount_setattr(2) on Linux
    5.12+, else a read-only bind remount of each visible mount point, keeping the
    flags it has (a user namespace may not clear them)."""
    if use_setattr:
        try:
            _mount_setattr("/", recursive=True, readonly=True)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EINVAL):
                raise
    top: dict[str, str] = {}
    for fields in mountinfo():
        top[_unescape(fields[4])] = fields[5]  # later entries cover earlier ones
    for point, options in top.items():
        if not os.path.exists(point):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | _flags_of(options.split(","))
        try:
            mount(None, point, None, flags)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.EINVAL):  # covered by another mount
                raise


_OPTION_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}


def _flags_of(options: list[str]) -> int:
    flags = 0
    for option in options:
        flags |= _OPTION_FLAGS.get(option, 0)
    return flags


def _unescape(path: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


def private_temporary_folders() -> None:
    """One tmpfs of TEMP_MB, shown at /tmp, /var/tmp and /dev/shm (separate folders
    of it), so that together they cannot hold more."""
    targets: list[str] = []
    for folder in HIDDEN:  # /var/tmp may be a link to /tmp: one mount for both
        real = os.path.realpath(folder)
        if os.path.isdir(real) and real not in targets:
            targets.append(real)
    if not targets:
        return
    base = targets[0]
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, f"size={TEMP_MB}m,nr_inodes=4096,mode=755")
    folders = {}
    for target in targets:
        folder = f"{base}/{target.strip('/').replace('/', '-')}"
        os.mkdir(folder)
        os.chmod(folder, 0o1777)
        folders[target] = folder
    for target in targets[1:]:
        mount(folders[target], target, None, MS_BIND)
    mount(folders[base], base, None, MS_BIND)  # covers the staging folders


def bind(fd: int, path: str, *, writable: bool) -> None:
    """Bind the folder open as ``fd`` at ``path``, creating the mount point (and its
    parents, not writable) inside a private temporary folder if needed."""
    if not os.path.isdir(path):  # hidden: make the mount point in the private folder
        missing = []
        folder = os.path.dirname(path)
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for folder in reversed(missing):
            os.mkdir(folder)
            os.chmod(folder, 0o555)  # whoever runs the learner's code may pass, not write
        os.mkdir(path, 0o500)
    mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
    set_readonly(path, readonly=not writable)


def set_readonly(path: str, *, readonly: bool) -> None:
    try:
        _mount_setattr(path, recursive=False, readonly=readonly)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL):
            raise
    keep = os.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | (MS_RDONLY if readonly else 0)
    for bit, flag in (
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (os.ST_RELATIME, MS_RELATIME),
    ):
        if keep & bit:
            flags |= flag
    mount(None, path, None, flags)
