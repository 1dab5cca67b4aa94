"""Options that several commands share, written once, and what they resolve to.

Commands import from here and from ``language``; nothing here imports a command
module, so imports run one way (``main`` registers the commands).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from grader import registry
from grader.messages import LANGUAGES, text


def lang_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        help="Language of feedback (default: from LANG/LC_ALL, else en).",
    )(fn)


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def exercise_names(
    only: tuple[str, ...], units: tuple[int, ...] = ()
) -> tuple[registry.Exercise, ...]:
    """The exercises ``--only`` names, of the units ``--unit`` names (all when neither);
    an unknown name, or no exercise in both, is a usage error."""
    return chosen_exercises(lambda: registry.select(only, units), only, units)


def chosen_exercises(
    choose: Callable[[], tuple[registry.Exercise, ...]],
    only: tuple[str, ...],
    units: tuple[int, ...],
    lang: str | None = None,
) -> tuple[registry.Exercise, ...]:
    """What ``choose`` returns (``registry.select`` or ``to_grade`` with ``--only`` and
    ``--unit``), with its refusals as one-line usage errors."""
    from grader.cli.language import resolve_lang

    try:
        exercises = choose()
    except KeyError as exc:
        known = ", ".join(ex.name for ex in registry.EXERCISES)
        raise click.UsageError(f"unknown exercise {exc.args[0]} (known: {known})") from None
    if not exercises:
        said = text(
            "cli.only_outside_unit",
            resolve_lang(lang),
            names=", ".join(only),
            units=", ".join(str(u) for u in units),
        )
        raise click.UsageError(said)
    return exercises


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def units_option(help_text: str) -> Decorator:
    """``--unit N`` (repeatable) as ``units``, a tuple of ints; the choices are the
    registry's units."""

    def to_ints(
        ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
    ) -> tuple[int, ...]:
        return tuple(sorted({int(v) for v in value}))

    return click.option(
        "--unit",
        "units",
        multiple=True,
        type=click.Choice([str(u) for u in registry.units()]),
        callback=to_ints,
        help=help_text,
    )


def memory_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--memory",
        type=click.IntRange(min=64),
        default=1024,
        show_default=True,
        help="Megabytes of memory each exercise may use.",
    )(fn)


def timeout_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Per-exercise wall-clock limit, 5 s by default (commands that grade on CPU)."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=5.0,
        show_default=True,
        help="Seconds each exercise may run.",
    )(fn)


def device_timeout_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Per-exercise limit for commands that take --device: 5 s, or 20 s on CUDA."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds each exercise may run [default: 5, 20 on CUDA].",
    )(fn)


def device_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--device",
        type=click.Choice(["cpu", "cuda", "auto"]),
        default="cpu",
        show_default=True,
        help="Where hidden inputs and references live.",
    )(fn)


def credit_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How an exercise's points are earned (``grader.grading.CREDIT_POLICIES``)."""
    return click.option(
        "--partial-credit",
        "credit",
        type=click.Choice(["gate", "checks"]),
        default="gate",
        show_default=True,
        help="gate: type and side-effect points count only when the values are right; "
        "checks: every passing check counts.",
    )(fn)
