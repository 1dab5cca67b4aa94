"""``grade PATH`` and its subcommands.

Commands parse options, call plain keyword-only functions, and print a report.
Usage mistakes raise ``click.UsageError`` (exit 2, one line, no traceback).
Everything is shown in the language of the run (``grader.cli.language``), click's
own words included (``grader.cli.click_words``).
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from grader.cli.click_words import LocalizedContext, error_line
from grader.cli.exits import FAST_EXIT
from grader.cli.language import (
    LANG_KEY,
    context_language,
    invocation_language,
    localize_help,
    resolve_lang,
    walk_commands,
)
from grader.cli.options import (
    credit_option,
    device_option,
    device_timeout_option,
    lang_option,
    memory_option,
    units_option,
    use_color,
)
from grader.messages import LANGUAGES, text
from grader.report import FORMATS

# click >= 8.2 shows a group's help as an error when no command is named
NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


class DefaultGroup(click.Group):
    """A group whose first argument is a PATH to grade unless it names a command."""

    default_command = "check"
    context_class = LocalizedContext

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lang = invocation_language(args)  # before click reads anything: help, errors
        ctx.meta[LANG_KEY] = lang
        localize_help(self, lang)
        first = _after_lang(args)
        if first < len(args) and args[first] not in (*self.commands, "--help", "-h", "--version"):
            args = [self.default_command, *args]  # `grade --lang zh PATH`: check takes --lang
        elif first >= len(args) and not ctx.resilient_parsing:  # `grade <TAB>`: commands
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's ``main``; standalone (click's CliRunner too), click's errors are
        reported the way the ``grade`` script reports them."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        result = invoke(self, args, prog_name=prog_name, complete_var=complete_var, **extra)
        sys.exit(result if isinstance(result, int) else 0)


def _after_lang(args: list[str]) -> int:
    """Where the arguments after any leading ``--lang X`` begin."""
    index = 0
    while index < len(args):
        if args[index] == "--lang":
            index += 2
        elif args[index].startswith("--lang="):
            index += 1
        else:
            break
    return index


def invoke(group: click.Group, args: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """``group.main`` out of standalone mode, with click's errors reported in the
    language of the run: a usage error is one line on stderr and exit 2 (a group
    named without a command shows its help), other click errors one line and their
    exit code, Ctrl-C or the end of input at a prompt "Aborted!" and exit 1."""
    argv = sys.argv[1:] if args is None else list(args)
    lang = invocation_language(argv)
    try:
        return group.main(argv, standalone_mode=False, **kwargs)
    except NoArgsIsHelp as exc:
        click.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(error_line(exc, lang), err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo(text("cli.aborted", lang), err=True)
        sys.exit(1)


def show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``grade --version``, in the language of the run."""
    if not value or ctx.resilient_parsing:
        return
    version = importlib.metadata.version("autograd-grader")
    prog = ctx.find_root().info_name or "grade"
    click.echo(text("cli.version", context_language(ctx), prog=prog, version=version))
    ctx.exit()


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=show_version,
    help="Show the version and exit.",  # click's own words: grader/cli/click_words.py
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    expose_value=False,  # read before parsing (grader.cli.language), for every command
    help="Language of everything shown (default: from LANG/LC_ALL, else en).",
)
def main() -> None:
    """Grade torch.autograd exercises.

    \b
    grade exercises/            grade your work (the default command)
    grade solutions/ --format json
    """


@main.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=Path("exercises"))
@device_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="Grade only this exercise (function name); repeatable.",
)
@units_option(
    "Grade this unit's exercises; repeatable. Default: every unit PATH holds an exercise of."
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden inputs (default: a fresh secret seed each run).",
)
@device_timeout_option
@memory_option
@click.option(
    "--total-timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds the whole submission may run [default: 6 x --timeout].",
)
@credit_option
@lang_option
def check_command(
    path: Path,
    device: str,
    fmt: str,
    only: tuple[str, ...],
    units: tuple[int, ...],
    seed: int | None,
    timeout: float | None,
    memory: int,
    total_timeout: float | None,
    credit: str,
    lang: str | None,
) -> object:
    """Grade the exercise files in PATH (default: exercises/)."""
    from grader.cli.grading import grade_path

    lang = resolve_lang(lang)
    source = click.get_current_context().get_parameter_source("path")
    if source is ParameterSource.DEFAULT and not path.exists():  # plain `grade`, elsewhere
        raise click.UsageError(text("cli.no_exercises", lang))
    grade_path(
        path=path,
        device=device,
        fmt=fmt,
        only=only,
        units=units,
        seed=seed,
        timeout=timeout,
        memory=memory,
        total_timeout=total_timeout,
        credit=credit,
        lang=lang,
        color=use_color(),
    )
    return FAST_EXIT


def _register_subcommands() -> None:
    """Commands live in modules named for their audience; each adds its own. Every
    command writes its help pages in the language of the run."""
    from grader.cli import classroom, doctor, study

    classroom.register(main)
    doctor.register(main)
    study.register(main)
    for _, command in walk_commands(main):
        command.context_class = LocalizedContext


_register_subcommands()


def run() -> None:
    """The ``grade`` console script: click's standalone behaviour, except that a
    usage error is one line on stderr (exit 2) in the language of the run, and that
    once ``grade PATH`` has printed its report the process ends at once. Tearing
    down an interpreter that holds torch and pytest takes longer than the grading
    itself; the sandbox is already closed by then."""
    tolerate_unencodable_output()
    result = invoke(main)
    if result is FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    sys.exit(result if isinstance(result, int) else 0)


def tolerate_unencodable_output() -> None:
    """Write what the output's encoding cannot hold as backslash escapes instead of
    failing: a lone surrogate that slipped through, or any non-ASCII text on an
    ASCII or Latin-1 terminal. A report is always printed whole."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream this process owns (a test runner's capture)


if __name__ == "__main__":
    run()
