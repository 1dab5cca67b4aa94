"""Machine-wide leases on the unprivileged user ids that workers run as.

When the grader runs as root, each worker runs as its own uid so that, after the
job, every process of that uid can be killed (setsid escapees included). Several
graders may run on one machine at once (a class's batch, a learner's watch mode,
parallel tests), so a uid is leased with an exclusive ``flock`` on a file under
``/tmp``: no two live jobs anywhere on the machine share a uid.
"""

from __future__ import annotations

import fcntl
import os
import random

BASE = 61000
COUNT = 4000
LOCK_DIR = "/tmp/.autograd-grader-uids"


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
