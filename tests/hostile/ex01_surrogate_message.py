"""Raising an exception whose message holds a lone surrogate and a NUL, which no
UTF-8 output can encode (issue 9: ``grade --format json`` exited 1 with a
UnicodeEncodeError and printed nothing). The grader: 0 points, and every format
prints the message with U+FFFD for the surrogate and without the NUL."""


def scalar_grad(f, x):
    raise ValueError("lone " + chr(0xD800) + " surrogate and NUL" + chr(0) + " here")
