"""click's own words (Usage, Options, Error, [y/N], ...) in the reader's language.

click writes these in English. It marks them for the standard library's gettext,
but gettext picks its language from the process environment and reads compiled
catalogue files, so following ``--lang`` that way would mean rewriting the
environment of the whole process. Instead, the words are translated where this
command line shows them:

- help pages are written by ``LocalizedFormatter``, which every command's context
  (``LocalizedContext``) makes in the language of the run;
- usage errors are one line (``error_line``), click's sentence in it matched
  against click's English templates, which the catalogues hold as ``click.*``;
- the confirmation prompt is ``confirm`` (click's [y/N] is not even marked).

Text that no template matches is shown as click wrote it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

import click

from grader.cli.language import context_language
from grader.messages import CATALOGUES, text
from grader.text_safety import MAX_CHARS, printable

CLICK_PREFIX = "click."
HEADING_END = {"zh": "："}  # Chinese headings end in a full-width colon; others in ":"
QUOTING = ("message", "name", "number_type")  # fields that hold more of click's words
YES = ("y", "yes", "是")
NO = ("n", "no", "否")


def _pattern(template: str) -> re.Pattern[str]:
    """A regex that matches what ``template`` formats to, one group per field."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def _templates() -> tuple[tuple[re.Pattern[str], str], ...]:
    """click's English templates with their keys, in the order they are tried:
    sentences that quote another sentence first (``Invalid value for X: ...``
    would otherwise pass for the ``... is not in the range ...`` it quotes), then
    the most literal text first (``is not one of {choices}`` before ``is not
    {choice}``)."""
    english = {
        key: template for key, template in CATALOGUES["en"].items() if key.startswith(CLICK_PREFIX)
    }

    def order(item: tuple[str, str]) -> tuple[bool, int]:
        parsed = list(string.Formatter().parse(item[1]))
        quotes = any(field == "message" for _, field, _, _ in parsed)
        return (not quotes, -sum(len(literal) for literal, _, _, _ in parsed))

    return tuple((_pattern(template), key) for key, template in sorted(english.items(), key=order))


TEMPLATES = _templates()


def translate(said: str, lang: str) -> str:
    """click's English ``said`` in ``lang``: a sentence made from one of click's
    templates, with the parts it quotes translated in turn (an ``Invalid value``
    quotes the type's own sentence), or one of click's words (``Options``)."""
    if lang == "en" or not said:
        return said
    catalogue = CATALOGUES[lang]
    for pattern, key in TEMPLATES:
        found = pattern.fullmatch(said)
        if found:
            parts = {
                name: translate(value, lang) if name in QUOTING else value
                for name, value in found.groupdict().items()
            }
            return _plain_fields(catalogue[key]).format(**parts)
    if said.istitle() and said.lower() != said:  # click title-cases some words (Directory)
        lower = translate(said.lower(), lang)
        if lower != said.lower():
            return lower
    return said


def _plain_fields(template: str) -> str:
    """``template`` with conversions dropped: the values are quoted already."""
    return re.sub(r"\{(\w+)![rsa]\}", r"{\1}", template)


# --- help pages ----------------------------------------------------------------

_EXTRAS = re.compile(r"(?P<help>.*?)(?P<gap>  |)\[(?P<items>[^\[\]]+)\]", re.DOTALL)


class LocalizedFormatter(click.HelpFormatter):
    """click's help formatter, writing click's own words in ``lang``."""

    def __init__(self, lang: str, **kwargs: int | None) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lang = lang

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = translate("Usage:", self.lang)
            prefix += "" if prefix.endswith(tuple(HEADING_END.values())) else " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        end = HEADING_END.get(self.lang, ":")
        self.write(f"{'':>{self.current_indent}}{translate(heading, self.lang)}{end}\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        shown = [(term, self.help_cell(said)) for term, said in rows]
        super().write_dl(shown, col_max, col_spacing)

    def help_cell(self, said: str) -> str:
        """An option's help: click's own (``Show this message and exit.``) and
        the notes click adds in brackets (``[default: 5; required]``) translated."""
        found = _EXTRAS.fullmatch(said)
        if found is None or not (found["gap"] or not found["help"]):
            return translate(said, self.lang)
        items = "; ".join(translate(item, self.lang) for item in found["items"].split("; "))
        return f"{translate(found['help'], self.lang)}{found['gap']}[{items}]"


class LocalizedContext(click.Context):
    """A context whose help pages are written in the language of its run."""

    def make_formatter(self) -> click.HelpFormatter:
        return LocalizedFormatter(
            context_language(self), width=self.terminal_width, max_width=self.max_content_width
        )


# --- errors and prompts --------------------------------------------------------


def error_line(exc: click.ClickException, lang: str) -> str:
    """What ``grade`` prints for one of click's errors: one line, in ``lang``,
    and for a usage error where to find help. It may quote a path: only
    printable characters are kept."""
    said = printable(translate(exc.format_message(), lang), MAX_CHARS)
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx else "grade"
        return text("cli.usage_error", lang, message=said, command=where)
    return text("cli.error", lang, message=said)


def confirm(question: str, lang: str) -> bool:
    """``click.confirm`` with its ``[y/N]`` in ``lang``: y or yes (是) says yes,
    n, no (否) or nothing says no. Ctrl-C or the end of input raise click.Abort."""
    prompt = text("cli.confirm", lang, question=question)
    while True:
        answer = click.prompt(prompt, default="", show_default=False, prompt_suffix="")
        answer = answer.strip().lower()
        if answer in YES:
            return True
        if answer in NO or not answer:
            return False
        click.echo(text("cli.confirm_again", lang))
