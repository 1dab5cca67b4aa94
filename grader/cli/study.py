"""Commands for learners studying alone: watch, hint, list, init, reset, solution.

Each command parses its options and calls a plain function. Help texts come from
the message catalogues: English here, and the language of each run is put in by
``grader.cli.language.localize_help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from grader import registry
from grader.cli.click_words import confirm
from grader.cli.options import units_option
from grader.messages import LANGUAGES, text
from grader.registry import EXERCISES, Exercise
from grader.study.names import complete, find_exercise

DEFAULT_FOLDER = Path("exercises")


def _help(key: str) -> str:
    return text(key, "en")


def _complete_exercise(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return [CompletionItem(name) for name in complete(incomplete)]


def _lang_option(fn):  # type: ignore[no-untyped-def]
    return click.option(
        "--lang", type=click.Choice(LANGUAGES), default=None, help=_help("help.option.lang")
    )(fn)


def _limit_options(fn):  # type: ignore[no-untyped-def]
    fn = click.option(
        "--memory",
        type=click.IntRange(min=64),
        default=1024,
        show_default=True,
        help=_help("help.option.memory"),
    )(fn)
    return click.option(
        "--timeout", type=click.FloatRange(min=0.1), default=None, help=_help("help.option.timeout")
    )(fn)


_name_argument = click.argument("name", shell_complete=_complete_exercise)
_folder_argument = click.argument(
    "path", type=click.Path(path_type=Path), default=DEFAULT_FOLDER, required=False
)


def _settings(lang: str | None) -> tuple[str, bool]:
    from grader.cli.language import resolve_lang
    from grader.cli.options import use_color

    return resolve_lang(lang), use_color()


def resolve_exercise(name: str, lang: str) -> Exercise:
    try:
        return find_exercise(name)
    except KeyError:
        known = ", ".join(ex.name for ex in EXERCISES)
        raise click.UsageError(
            text("study.unknown_exercise", lang, name=name, known=known)
        ) from None


def cannot_write(path: Path, exc: OSError, lang: str) -> str:
    return text("study.cannot_write", lang, path=path, why=exc.strerror or exc)


def require_folder(path: Path, lang: str) -> None:
    if not path.exists():
        raise click.UsageError(text("study.no_folder", lang, path=path))
    if not path.is_dir():
        raise click.UsageError(text("study.not_folder", lang, path=path))


# --- watch -----------------------------------------------------------------


@click.command("watch", help=_help("help.watch"))
@_folder_argument
@click.option("--manual", is_flag=True, help=_help("help.watch.manual"))
@_limit_options
@_lang_option
def watch_command(
    path: Path, manual: bool, timeout: float | None, memory: int, lang: str | None
) -> None:
    from grader.study.watch import watch

    lang, color = _settings(lang)
    require_folder(path, lang)
    watch(path=path, lang=lang, color=color, manual=manual, timeout=timeout, memory=memory)


# --- hint ------------------------------------------------------------------


@click.command("hint", help=_help("help.hint"))
@_name_argument
@click.option("--level", type=int, default=1, show_default=True, help=_help("help.hint.level"))
@_lang_option
def hint_command(name: str, level: int, lang: str | None) -> None:
    lang, color = _settings(lang)
    show_hint(exercise=resolve_exercise(name, lang), level=level, lang=lang, color=color)


def show_hint(*, exercise: Exercise, level: int, lang: str, color: bool) -> None:
    from grader.hints import hints_for
    from grader.report.study import render_hint

    hints = hints_for(exercise.name, lang)
    if not 1 <= level <= len(hints):
        raise click.UsageError(
            text("study.level_range", lang, name=exercise.name, count=len(hints))
        )
    click.echo(render_hint(exercise, level, hints, lang, color))


# --- list ------------------------------------------------------------------


@click.command("list", help=_help("help.list"))
@_folder_argument
@_limit_options
@_lang_option
def list_command(path: Path, timeout: float | None, memory: int, lang: str | None) -> None:
    lang, color = _settings(lang)
    require_folder(path, lang)
    list_progress(path=path, lang=lang, color=color, timeout=timeout, memory=memory)


def list_progress(
    *, path: Path, lang: str, color: bool, timeout: float | None, memory: int
) -> None:
    from grader.report.study import render_list

    folder = _up_to_date(path, timeout=timeout, memory=memory)
    click.echo(render_list(folder.statuses(), lang, color))


def _up_to_date(path: Path, *, timeout: float | None, memory: int):  # type: ignore[no-untyped-def]
    """The learner's folder, graded where it changed since it was last graded."""
    from grader.study.folder import LearnerFolder

    folder = LearnerFolder(path)
    folder.read()
    if folder.stale():  # only now is torch imported and a sandbox started
        from grader.study.checking import Checker

        with Checker(timeout=timeout, memory=memory) as checker:
            checker.grade(folder, folder.stale())
    return folder


# --- init and reset --------------------------------------------------------


@click.command("init", help=_help("help.init"))
@click.argument("target", type=click.Path(path_type=Path), default=DEFAULT_FOLDER, required=False)
@click.option("--force", is_flag=True, help=_help("help.init.force"))
@units_option(_help("help.init.units"))
@_lang_option
def init_command(target: Path, force: bool, units: tuple[int, ...], lang: str | None) -> None:
    lang, _ = _settings(lang)
    init_exercises(target=target, force=force, units=units, lang=lang)


def learner_readme(count: int) -> str:
    """The README ``grade init`` writes beside ``count`` exercise files."""
    english, chinese = (text("study.readme", lang, count=count) for lang in ("en", "zh"))
    return english + "\n\n---\n\n" + chinese + "\n"


def init_exercises(*, target: Path, force: bool, lang: str, units: tuple[int, ...] = ()) -> None:
    from grader.study.files import README, WouldOverwrite, init_folder

    if target.exists() and not target.is_dir():
        raise click.UsageError(text("study.not_folder", lang, path=target))
    exercises = registry.select(units=units)
    try:
        written = init_folder(
            target, readme=learner_readme(len(exercises)), force=force, exercises=exercises
        )
    except WouldOverwrite as exc:
        shown = ", ".join(exc.files[:3]) + (", ..." if len(exc.files) > 3 else "")
        raise click.UsageError(text("study.init_exists", lang, path=target, files=shown)) from None
    except OSError as exc:
        raise click.UsageError(cannot_write(target, exc, lang)) from None
    count = sum(path.name != README for path in written)
    said = "study.init_done" if count < len(written) else "study.init_added"
    click.echo(text(said, lang, count=count, path=target))


@click.command("reset", help=_help("help.reset"))
@_name_argument
@_folder_argument
@_lang_option
def reset_command(name: str, path: Path, lang: str | None) -> None:
    lang, _ = _settings(lang)
    exercise = resolve_exercise(name, lang)
    require_folder(path, lang)
    reset_one(exercise=exercise, path=path, lang=lang)


def reset_one(*, exercise: Exercise, path: Path, lang: str) -> None:
    from grader.study.files import reset_exercise
    from grader.study.folder import LearnerFolder

    try:
        saved = reset_exercise(path, exercise)
    except OSError as exc:
        raise click.UsageError(cannot_write(path / exercise.file, exc, lang)) from None
    LearnerFolder(path).forget(exercise)
    if saved is None:
        click.echo(text("study.reset_fresh", lang, file=path / exercise.file))
    else:
        click.echo(text("study.reset_saved", lang, file=path / exercise.file, saved=saved))


# --- solution --------------------------------------------------------------


@click.command("solution", help=_help("help.solution"))
@_name_argument
@_folder_argument
@click.option("--force", is_flag=True, help=_help("help.solution.force"))
@_limit_options
@_lang_option
def solution_command(
    name: str, path: Path, force: bool, timeout: float | None, memory: int, lang: str | None
) -> None:
    lang, color = _settings(lang)
    exercise = resolve_exercise(name, lang)
    if not force:
        require_folder(path, lang)
    show_solution(
        exercise=exercise,
        path=path,
        force=force,
        lang=lang,
        color=color,
        timeout=timeout,
        memory=memory,
    )


def show_solution(
    *,
    exercise: Exercise,
    path: Path,
    force: bool,
    lang: str,
    color: bool,
    timeout: float | None,
    memory: int,
) -> None:
    from grader.hints import explanation_for
    from grader.report.study import render_solution
    from grader.study import bundle
    from grader.study.progress import PASSED

    if force:
        if not confirm(text("study.solution_confirm", lang, name=exercise.name), lang):
            click.echo(text("study.solution_kept", lang))
            sys.exit(1)
    else:
        status = _up_to_date(path, timeout=timeout, memory=memory).status(exercise)
        if status.state != PASSED:
            click.echo(
                text(
                    "study.solution_locked",
                    lang,
                    name=exercise.name,
                    state=text(f"study.state.{status.state}", lang),
                    score=f"{status.score:g}",
                    max_score=f"{exercise.points:g}",
                ),
                err=True,
            )
            sys.exit(1)
    code = bundle.solution_text(exercise)
    click.echo(render_solution(exercise, code, explanation_for(exercise.name, lang), lang, color))


# --- registration -----------------------------------------------------------

COMMANDS = (
    watch_command,
    hint_command,
    list_command,
    init_command,
    reset_command,
    solution_command,
)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in COMMANDS:
        group.add_command(command)
