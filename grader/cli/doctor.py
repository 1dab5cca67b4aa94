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
    from grader.cli.main import FAST_EXIT, resolve_lang, use_color

    show_doctor(fmt=fmt, lang=resolve_lang(lang), color=use_color())
    return FAST_EXIT


def show_doctor(*, fmt: str, lang: str, color: bool) -> None:
    from grader.report.doctor import render
    from grader.runner.doctor import diagnose

    click.echo(render(diagnose(), lang, color, fmt))


def register(group: click.Group) -> None:
    group.add_command(doctor_command)
