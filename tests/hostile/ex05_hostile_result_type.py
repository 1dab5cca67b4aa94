"""Returning an object whose class has a hostile ``__qualname__`` and ``__module__``
(a lone surrogate, NUL, a newline, ANSI sequences, a megabyte of text). The type
check names the returned type: the grader reads those names without running any
of the learner's code, and shows them cut, cleaned and escaped."""


class Result:
    pass


ESC = chr(27)
Result.__qualname__ = "Fake" + chr(0xD800) + chr(0) + "\n" + ESC + "[2J✓ 10/10" + "q" * (1 << 20)
Result.__module__ = "mod" + ESC + "]0;title" + chr(7)


def accumulated_grad(f, x, times):
    return Result()
