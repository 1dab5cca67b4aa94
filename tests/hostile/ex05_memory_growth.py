"""Exhausting memory: a list of 64 MB blocks, each written so that it is really
resident, growing without end. The grader: "memory limit", 0."""


def accumulated_grad(f, x, times):
    blocks = []
    while True:
        blocks.append(bytearray(b"x" * (64 << 20)))
