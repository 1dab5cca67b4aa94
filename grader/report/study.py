"""What the self-study commands print: pure functions from statuses to text.

Every sentence comes from the message catalogues; hints and explanations from
``grader/hints``. Colour is added only when the caller asks for it.
"""

from __future__ import annotations

import click

from grader import registry
from grader.messages import text
from grader.registry import Exercise
from grader.report.columns import pad, width
from grader.report.text import exercise_line
from grader.study.progress import FAILING, MISSING, NOT_STARTED, PASSED, Status

MARKS = {PASSED: "✓", FAILING: "✗", NOT_STARTED: "·", MISSING: "?"}
COLOURS = {PASSED: "green", FAILING: "red", NOT_STARTED: "yellow", MISSING: "magenta"}
BAR_WIDTH = 24


def _points(value: float) -> str:
    return f"{value:g}"


def title(ex: Exercise, lang: str) -> str:
    return text("study.exercise", lang, number=ex.order, title=text(f"title.{ex.name}", lang))


def progress_line(statuses: list[Status], lang: str, color: bool) -> str:
    passed = sum(s.state == PASSED for s in statuses)
    total = len(statuses)
    filled = round(BAR_WIDTH * passed / total) if total else 0
    done, left = "█" * filled, "░" * (BAR_WIDTH - filled)
    bar = (click.style(done, fg="green") if color else done) + left
    summary = text(
        "study.progress",
        lang,
        passed=passed,
        total=total,
        score=_points(sum(s.score for s in statuses)),
        max_score=_points(sum(s.exercise.points for s in statuses)),
    )
    return f"[{bar}] {summary}"


def state_label(state: str, lang: str, color: bool) -> str:
    label = f"{MARKS[state]} {text(f'study.state.{state}', lang)}"
    return click.style(label, fg=COLOURS[state]) if color else label


def render_list(statuses: list[Status], lang: str, color: bool) -> str:
    names = [s.exercise.name for s in statuses]
    labels = [f"{MARKS[s.state]} {text(f'study.state.{s.state}', lang)}" for s in statuses]
    name_w = max(width(n) for n in names + [text("study.col.exercise", lang)]) + 2
    state_w = max(width(x) for x in labels + [text("study.col.state", lang)]) + 2
    head = (
        " #  "
        + pad(text("study.col.exercise", lang), name_w)
        + pad(text("study.col.state", lang), state_w)
        + text("study.col.points", lang)
    )
    lines = [click.style(head, bold=True) if color else head]
    unit = None
    for status, label in zip(statuses, labels, strict=True):
        if status.exercise.unit != unit:
            unit = status.exercise.unit
            if len(lines) > 1:
                lines.append("")
            heading = unit_heading(unit, lang)
            lines.append(click.style(heading, bold=True) if color else heading)
        shown = pad(label, state_w)
        if color:
            shown = click.style(shown, fg=COLOURS[status.state])
        points = f"{_points(status.score):>4}/{_points(status.exercise.points)}"
        lines.append(
            f"{status.exercise.order:>2}  {pad(status.exercise.name, name_w)}{shown}{points}"
        )
    lines.append("")
    lines.append(progress_line(statuses, lang, color))
    return "\n".join(lines)


def unit_heading(unit: int, lang: str) -> str:
    """``Unit 2 · exercises 9-16``."""
    orders = [ex.order for ex in registry.select(units=(unit,))]
    return text("study.unit", lang, unit=unit, first=min(orders), last=max(orders))


def render_current(status: Status, lang: str, color: bool) -> str:
    """The first unfinished exercise: where it is and what is wrong with it."""
    ex = status.exercise
    head = f"{title(ex, lang)}  ({ex.file})"
    lines = [click.style(head, bold=True) if color else head]
    if status.result is not None:
        lines.append(exercise_line(status.result, lang, color))
    elif status.state == MISSING:
        lines.append("    " + text("outcome.missing_file", lang, file=ex.file, name=ex.name))
    elif status.state == NOT_STARTED:
        lines.append("    " + text("raised.not_implemented", lang, name=ex.name, file=ex.file))
    else:
        lines.append("    " + text("study.not_checked", lang))
    return "\n".join(lines)


def first_unfinished(statuses: list[Status]) -> Status | None:
    return next((s for s in statuses if s.state != PASSED), None)


def render_watch(statuses: list[Status], lang: str, color: bool, *, manual: bool, path: str) -> str:
    lines = [progress_line(statuses, lang, color), ""]
    current = first_unfinished(statuses)
    if current is None:
        done = text("study.all_done", lang, total=len(statuses))
        lines.append(click.style(done, fg="green", bold=True) if color else done)
    else:
        lines.append(render_current(current, lang, color))
    lines.append("")
    keys = text("study.keys_manual" if manual else "study.keys", lang)
    waiting = text("study.waiting_enter" if manual else "study.watching", lang, path=path)
    lines.append(click.style(keys, dim=True) if color else keys)
    lines.append(click.style(waiting, dim=True) if color else waiting)
    return "\n".join(lines)


def render_hint(ex: Exercise, level: int, hints: tuple[str, ...], lang: str, color: bool) -> str:
    head = text("study.hint_title", lang, level=level, count=len(hints), name=ex.name)
    lines = [click.style(head, fg="cyan", bold=True) if color else head, hints[level - 1]]
    if level < len(hints):
        lines.append(text("study.hint_more", lang, name=ex.name, next=level + 1))
    else:
        lines.append(text("study.hint_last", lang, name=ex.name))
    return "\n".join(lines)


def render_solution(ex: Exercise, code: str, explanation: str, lang: str, color: bool) -> str:
    head = text("study.solution_title", lang, name=ex.name, file=ex.file)
    why = text("study.solution_why", lang)
    return "\n".join(
        [
            click.style(head, bold=True) if color else head,
            "",
            code.rstrip("\n"),
            "",
            click.style(why, bold=True) if color else why,
            explanation,
        ]
    )
