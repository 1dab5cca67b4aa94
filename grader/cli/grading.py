"""The plain function behind ``grade PATH``."""

from __future__ import annotations

from pathlib import Path

import click

from grader.runner.execute import Limits, Sandbox


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise click.UsageError("--device cuda: no CUDA device is available on this machine")
    return device


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
    total_timeout: float | None = None,
) -> None:
    from grader.cli.main import exercise_names
    from grader.grading import Settings, grade
    from grader.report import render
    from grader.submission import SubmissionError, load

    exercises = exercise_names(only)
    try:
        submission = load(path, exercises)
    except SubmissionError as exc:
        raise click.UsageError(str(exc)) from None
    # The zygote forks before CUDA is touched and before any hidden input exists.
    with Sandbox(Limits()) as sandbox:
        device = resolve_device(device)
        sandbox.limits = default_limits(device, timeout, memory, total_timeout)
        settings = Settings(device=device, seed=seed, limits=sandbox.limits)
        (result,) = grade([submission], exercises, settings, sandbox=sandbox)
    click.echo(render(fmt, result, lang=lang, color=color))
