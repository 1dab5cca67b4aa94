"""``grade doctor``: which protections of the sandbox hold on this machine.

Help texts come from the message catalogues, as for the study commands.
"""

from __future__ import annotations

import click

from grader.messages import LANGUAGES, text


def _help(key: str) -> str:
    return text(key, "en")


@click.command("doctor", help=_help("help.doctor"))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help=_help("help.doctor.fmt"),
)
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help=_help("help.option.lang"))
def doctor_command(fmt: str, lang: str | None) -> object:
    from grader.cli.exits import FAST_EXIT
    from grader.cli.language import resolve_lang
    from grader.cli.options import use_color

    show_doctor(fmt=fmt, lang=resolve_lang(lang), color=use_color())
    return FAST_EXIT


def show_doctor(*, fmt: str, lang: str, color: bool) -> None:
    from grader.doctor import diagnose
    from grader.report.doctor import render

    click.echo(render(diagnose(), lang, color, fmt))


def register(group: click.Group) -> None:
    group.add_command(doctor_command)
