"""Raising an exception whose class name is long and holds control characters (an
ANSI colour, a carriage return, a right-to-left override). The grader: 0 points;
the type name is cut and its control characters are shown escaped."""

Boom = type("Boom" + chr(27) + "[31m" + chr(13) + chr(0x202E) + "x" * 5000, (Exception,), {})


def evaluate_without_grad(f, x):
    raise Boom("raised with a hostile type name")
