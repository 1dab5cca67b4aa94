"""``grade PATH`` and its subcommands.

Commands parse options, call plain keyword-only functions, and print a report.
Usage mistakes raise ``click.UsageError`` (exit 2, one line, no traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from grader import registry
from grader.cli.options import memory_option
from grader.messages import LANGUAGES, language_from_env
from grader.report import FORMATS


class DefaultGroup(click.Group):
    """A group whose first argument is a PATH to grade unless it names a command."""

    default_command = "check"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = [self.default_command, *args]
        elif not args and not ctx.resilient_parsing:  # completing `grade <TAB>`: commands
            args = [self.default_command]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograd-grader")
def main() -> None:
    """Grade torch.autograd exercises.

    \b
    grade exercises/            grade your work (the default command)
    grade solutions/ --format json
    """


def lang_option(fn):  # type: ignore[no-untyped-def]
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        help="Language of feedback (default: from LANG/LC_ALL, else en).",
    )(fn)


def resolve_lang(lang: str | None) -> str:
    return lang or language_from_env()


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@main.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=Path("exercises"))
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda", "auto"]),
    default="cpu",
    show_default=True,
    help="Where hidden inputs and references live.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="Grade only this exercise (function name); repeatable.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden inputs (default: a fresh secret seed each run).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds each exercise may run [default: 5, 20 on CUDA].",
)
@memory_option
@click.option(
    "--total-timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds the whole submission may run [default: 6 x --timeout].",
)
@lang_option
def check_command(
    path: Path,
    device: str,
    fmt: str,
    only: tuple[str, ...],
    seed: int | None,
    timeout: float | None,
    memory: int,
    total_timeout: float | None,
    lang: str | None,
) -> object:
    """Grade the exercise files in PATH (default: exercises/)."""
    from grader.cli.grading import grade_path

    grade_path(
        path=path,
        device=device,
        fmt=fmt,
        only=only,
        seed=seed,
        timeout=timeout,
        memory=memory,
        total_timeout=total_timeout,
        lang=resolve_lang(lang),
        color=use_color(),
    )
    return FAST_EXIT


def exercise_names(only: tuple[str, ...]) -> tuple[registry.Exercise, ...]:
    try:
        return registry.select(only)
    except KeyError as exc:
        known = ", ".join(ex.name for ex in registry.EXERCISES)
        raise click.UsageError(f"unknown exercise {exc.args[0]} (known: {known})") from None


def _register_subcommands() -> None:
    """Commands live in modules named for their audience; each adds its own."""
    from grader.cli import classroom, doctor, study

    classroom.register(main)
    doctor.register(main)
    study.register(main)  # last: puts every command's help into the reader's language


_register_subcommands()

FAST_EXIT = object()  # what a command returns when nothing is left to do but print


def run() -> None:
    """The ``grade`` console script: click's standalone behaviour, except that a
    usage error is one line on stderr (exit 2), and that once ``grade PATH`` has
    printed its report the process ends at once. Tearing down an interpreter that
    holds torch and pytest takes longer than the grading itself; the sandbox is
    already closed by then."""
    try:
        result = main(standalone_mode=False)
    except click.UsageError as exc:  # one line, and where to find help
        where = exc.ctx.command_path if exc.ctx else "grade"
        click.echo(f"Error: {exc.format_message()} (see '{where} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    if result is FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
