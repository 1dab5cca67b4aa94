"""The plain function behind ``grade PATH``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from grader.runner.execute import Limits, Sandbox


def resolve_device(device: str) -> str:
    """``cpu`` or ``cuda`` for ``--device cpu|cuda|auto``; ``cuda`` where there is none
    is a usage error. CUDA is looked for in a forked child, so this process (and
    every process it forks later: the zygote, chunk processes) never initialises it."""
    if device == "cpu":
        return device
    available = cuda_available()
    if device == "auto":
        return "cuda" if available else "cpu"
    if not available:
        raise click.UsageError("--device cuda: no CUDA device is available on this machine")
    return device


def cuda_available() -> bool:
    pid = os.fork()
    if pid == 0:  # the child may initialise CUDA's driver: it only answers, then goes
        code = 1
        try:
            import torch

            code = 0 if torch.cuda.is_available() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def default_limits(
    device: str, timeout: float | None, memory: int, total_timeout: float | None = None
) -> Limits:
    return Limits(
        timeout=timeout or (20.0 if device == "cuda" else 5.0),
        memory_mb=memory,
        total=total_timeout,
    )


def grade_path(
    *,
    path: Path,
    device: str,
    fmt: str,
    only: tuple[str, ...],
    seed: int | None,
    timeout: float | None,
    memory: int,
    lang: str,
    color: bool,
    units: tuple[int, ...] = (),
    total_timeout: float | None = None,
    credit: str = "gate",
) -> None:
    from grader.cli.options import chosen_exercises
    from grader.grading import Settings, grade
    from grader.report import render
    from grader.submission import SubmissionError, exercises_to_grade, load

    exercises = chosen_exercises(
        lambda: exercises_to_grade(path, only=only, units=units), only, units, lang
    )
    try:
        submission = load(path, exercises)
    except SubmissionError as exc:
        raise click.UsageError(str(exc)) from None
    device = resolve_device(device)
    limits = default_limits(device, timeout, memory, total_timeout)
    # The zygote forks before any hidden input exists.
    with Sandbox(limits) as sandbox:
        settings = Settings(device=device, seed=seed, limits=limits, credit=credit)
        (result,) = grade([submission], exercises, settings, sandbox=sandbox)
    click.echo(render(fmt, result, lang=lang, color=color))
