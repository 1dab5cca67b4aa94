"""Killing the grader: SIGKILL to every process this user may signal (kill -1), to
the parent (the grader's zygote) and to the grader's process group. In a PID
namespace of its own there is no one else to signal; without one, as root the
grader runs this as a user of its own, who may signal nothing of the grader's.
Either way the exercise scores 0 and every other submission and exercise is
unharmed.
(Run only when the grader is root: as an ordinary user, kill -1 would end every
process of that user, the test runner included.)"""

import os
import signal


def gradient_descent(f, params, lr, steps):
    os.kill(-1, signal.SIGKILL)
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    os.kill(os.getppid(), signal.SIGKILL)
