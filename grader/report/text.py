"""The text report a learner reads: one line per exercise, then the total."""

from __future__ import annotations

import click

from grader.messages import check_name, listing, rendered, text
from grader.report.columns import width
from grader.results import ExerciseResult, SubmissionResult
from grader.text_safety import escape_controls


def _points(value: float) -> str:
    return f"{value:g}"


def block(prefix: str, said: str) -> str:
    """``said`` after ``prefix``, its control characters escaped and its further
    lines indented under its first, so that text quoted from a learner can neither
    drive the terminal nor start a line of the report (a fake "✓ ... 10/10")."""
    return prefix + escape_controls(said).replace("\n", "\n" + " " * width(prefix))


def check_label(name: str, lang: str) -> str:
    """A check's name in the reader's language (``values``, 数值)."""
    return rendered(check_name(name), lang)


def exercise_line(ex: ExerciseResult, lang: str, color: bool) -> str:
    mark = "✓" if ex.passed else "✗"
    head = f"{mark} {ex.name:<22} {_points(ex.score):>4}/{_points(ex.max_score)}"
    if color:
        head = click.style(head, fg="green" if ex.passed else "red", bold=not ex.passed)
    lines = [head]
    if not ex.passed:
        partial = [c for c in ex.checks if c.passed and not c.gated]
        if partial:
            shown = [f"{check_label(c.name, lang)} {_points(c.score)}" for c in partial]
            lines.append("    " + text("report.partial", lang, checks=listing(shown, lang)))
        gated = [check_label(c.name, lang) for c in ex.checks if c.gated]
        if gated:
            lines.append("    " + text("report.gated", lang, checks=listing(gated, lang)))
        shown: set[str] = set()
        for check in ex.checks:
            if not check.passed and check.feedback:
                said = check.feedback.render(lang)
                if said not in shown:  # one run failure often explains every check
                    shown.add(said)
                    lines.append(block(f"    [{check_label(check.name, lang)}] ", said))
    return "\n".join(lines)


def render(result: SubmissionResult, lang: str = "en", color: bool = False) -> str:
    lines = [exercise_line(ex, lang, color) for ex in result.exercises]
    total = text(
        "report.total",
        lang,
        score=_points(result.score),
        max_score=_points(result.max_score),
        seconds=f"{result.seconds:.1f}",
    )
    lines.append("")
    lines.append(click.style(total, bold=True) if color else total)
    lines.append(text("report.seed", lang, seed=result.seed, device=result.device))
    missing = (result.sandbox or {}).get("missing") or []
    if missing:
        names = listing([text(f"sandbox.{p}", lang) for p in missing], lang)
        lines.append(text("report.sandbox_missing", lang, missing=names))
    return "\n".join(lines)
