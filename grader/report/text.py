"""The text report a learner reads: one line per exercise, then the total."""

from __future__ import annotations

import click

from grader.messages import join_list, text
from grader.results import ExerciseResult, SubmissionResult


def _points(value: float) -> str:
    return f"{value:g}"


def exercise_line(ex: ExerciseResult, lang: str, color: bool) -> str:
    mark = "✓" if ex.passed else "✗"
    head = f"{mark} {ex.name:<22} {_points(ex.score):>4}/{_points(ex.max_score)}"
    if color:
        head = click.style(head, fg="green" if ex.passed else "red", bold=not ex.passed)
    lines = [head]
    if not ex.passed:
        partial = [c for c in ex.checks if c.passed]
        if partial:
            shown = ", ".join(f"{c.name} {_points(c.score)}" for c in partial)
            lines.append("    " + text("report.partial", lang, checks=shown))
        shown: set[str] = set()
        for check in ex.checks:
            if not check.passed and check.feedback:
                said = check.feedback.render(lang)
                if said not in shown:  # one run failure often explains every check
                    shown.add(said)
                    lines.append(f"    [{check.name}] {said}")
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
        names = join_list([text(f"sandbox.{p}", lang) for p in missing], lang)
        lines.append(text("report.sandbox_missing", lang, missing=names))
    return "\n".join(lines)
