"""Options that several commands share, written once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


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
