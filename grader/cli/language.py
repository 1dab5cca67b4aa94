"""The language of one run of ``grade``, and the help texts in it.

The last ``--lang`` on the command line wins, then LC_ALL / LC_MESSAGES / LANG
(``grader.messages.language_from_env``). The language is decided before click
parses anything, so that help pages and usage errors, which click produces while
it parses (before ``--lang`` itself is read), are in that language too. The root
context keeps it in ``ctx.meta``, which click shares with every context under it.

Help texts are written in English in the code and in every language in the
catalogues (``help.*``); ``localize_help`` puts a command tree into one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

import click

from grader.messages import CATALOGUES, LANGUAGES, language_from_env, text

LANG_KEY = "grader.lang"  # where the root context keeps the run's language


def invocation_language(args: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The language of a run with these arguments: the last valid ``--lang`` before
    ``--``, else the environment's. A value click will refuse is left for click to
    refuse, in the environment's language."""
    chosen = None
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        else:
            continue
        if value in LANGUAGES:
            chosen = value
    return chosen or language_from_env(None if environ is None else dict(environ))


def context_language(ctx: click.Context | None) -> str:
    """The language of the run ``ctx`` belongs to (the environment's outside a run)."""
    lang = ctx.meta.get(LANG_KEY) if ctx is not None else None
    return lang if lang in LANGUAGES else language_from_env()


def help_key(command: str, param: str | None = None) -> str | None:
    """The catalogue key holding the help of a command (a dotted path such as
    ``nbgrader.generate``) or of one of its options."""
    english = CATALOGUES["en"]
    if param is None:
        key = f"help.{command}"
        return key if key in english else None
    for key in (f"help.{command}.{param}", f"help.option.{param}"):
        if key in english:
            return key
    return None


def walk_commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` with its dotted path (``nbgrader.generate``)."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from walk_commands(command, path + ".")


def localize_help(group: click.Group, lang: str) -> None:
    """Put the help texts of ``group`` and every command under it into ``lang``.
    English is the catalogue's, which is the code's own (tests/test_i18n.py)."""
    if key := help_key("grade"):
        group.help = text(key, lang)
    for param in group.params:
        if isinstance(param, click.Option) and param.help:
            if key := help_key("grade", param.name):
                param.help = text(key, lang)
    for path, command in walk_commands(group):
        if key := help_key(path):
            command.help = text(key, lang)
            # click cuts English at a space for the command list; Chinese has none
            command.short_help = None if lang == "en" else first_sentence(command.help)
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                if key := help_key(path, param.name):
                    param.help = text(key, lang)


def first_sentence(help_text: str, limit: int = 36) -> str:
    """The opening of a help text for command lists (click cuts at spaces, and
    Chinese has none)."""
    plain = re.sub(r"（[^）]*）", " ", help_text.strip())  # asides in brackets go first
    head = re.split(r"[。：；\n]", plain, maxsplit=1)[0]
    head = re.sub(r" +", " ", head).strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"


def resolve_lang(lang: str | None) -> str:
    """A command's ``--lang``, else the language of the run (``grade --lang zh CMD``
    or the environment's)."""
    return lang or context_language(click.get_current_context(silent=True))
