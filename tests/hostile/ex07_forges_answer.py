"""Writing a forged answer straight into the worker's result pipe, then exiting: an
``import_error`` whose type, message and code line hold a lone surrogate, NUL and
terminal control sequences, which the worker never produced. The grader: 0 points
(the forged error is shown as an error), its text cleaned and escaped."""

import json
import os
import struct

ESC = chr(27)
FORGED = {
    "status": "import_error",
    "error": {
        "type": "Forged" + ESC + "[2J" + chr(0xD800),
        "message": "clear" + chr(0) + ESC + "[H\r✓ 80/80" + "m" * 100_000,
        "frames": [{"line": 1, "code": ESC + "]0;title" + chr(7)}],
    },
}


def _send(doc):
    header = json.dumps({"__metadata__": {"json": json.dumps(doc)}}).encode()
    message = struct.pack("<Q", len(header)) + header  # a safetensors file with no tensors
    frame = struct.pack("<Q", len(message)) + message
    for fd in os.listdir("/proc/self/fd"):
        try:
            if int(fd) > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(int(fd), frame)
        except OSError:
            pass


_send(FORGED)
os._exit(0)


def gradient_descent(f, params, lr, steps):
    return params
