"""What an instructor reads after grading a class: per-exercise means and pass
rates, the slowest submissions, the most common mistakes, and a plot of the
pass rates for slides.

``summarize`` turns results into plain numbers; ``render`` writes them as text;
``plot_pass_rates`` draws the PNG (matplotlib, imported only there: it is an
optional extra). Nothing here grades.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.messages import Feedback, text
from grader.results import SubmissionResult
from grader.text_safety import MAX_CHARS, escape_controls, printable


@dataclass
class ExerciseStats:
    name: str
    max_score: float
    mean: float
    pass_rate: float  # share of graded submissions that passed, 0..1
    passed: int
    graded: int


@dataclass
class Diagnosis:
    exercise: str
    key: str  # the message key that names the mistake
    count: int
    example: Feedback  # one learner's feedback with that key, to show what it says


@dataclass
class Summary:
    submissions: int
    graded: int
    seconds: float
    mean_total: float
    max_total: float
    exercises: list[ExerciseStats]
    slowest: list[tuple[str, float]]
    diagnoses: list[Diagnosis]
    not_graded: dict[str, str] = field(default_factory=dict)  # student -> why


def diagnosis_key(feedback: Feedback | None) -> str:
    """The key that names what went wrong: the diagnosis that follows the first
    failing check's sentence when there is one, else that sentence's own key."""
    if feedback is None:
        return "unknown"
    for extra in feedback.then:
        if extra.key.startswith("diag."):
            return extra.key
    return feedback.then[0].key if feedback.then else feedback.key


def summarize(
    results: list[SubmissionResult],
    *,
    notes: dict[str, str] | None = None,
    seconds: float = 0.0,
    slowest: int = 5,
    diagnoses: int = 10,
) -> Summary:
    """``notes``: student -> why, for submissions that could not be graded (they
    count in ``submissions`` but in no mean or pass rate)."""
    notes = notes or {}
    graded = [r for r in results if r.submission not in notes]
    names = [ex.name for ex in results[0].exercises] if results else []
    stats = []
    for index, name in enumerate(names):
        column = [r.exercises[index] for r in graded]
        passed = sum(1 for ex in column if ex.passed)
        stats.append(
            ExerciseStats(
                name=name,
                max_score=results[0].exercises[index].max_score,
                mean=sum(ex.score for ex in column) / len(column) if column else 0.0,
                pass_rate=passed / len(column) if column else 0.0,
                passed=passed,
                graded=len(column),
            )
        )
    timed = sorted(((r.submission, _run_seconds(r)) for r in graded), key=lambda p: -p[1])
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], Feedback] = {}
    for r in graded:
        for ex in r.exercises:
            if not ex.passed:
                key = (ex.name, diagnosis_key(ex.feedback))
                counts[key] += 1
                if ex.feedback is not None:
                    examples.setdefault(key, ex.feedback)
    found = [
        Diagnosis(name, key, n, examples.get((name, key), Feedback("report.partial", {})))
        for (name, key), n in counts.most_common(diagnoses)
    ]
    return Summary(
        submissions=len(results),
        graded=len(graded),
        seconds=seconds,
        mean_total=sum(r.score for r in graded) / len(graded) if graded else 0.0,
        max_total=results[0].max_score if results else 0.0,
        exercises=stats,
        slowest=timed[:slowest],
        diagnoses=found,
        not_graded=dict(notes),
    )


def _run_seconds(result: SubmissionResult) -> float:
    return sum(ex.seconds for ex in result.exercises)


def _pad(said: str, width: int, *, right: bool = False) -> str:
    """Pad to ``width`` terminal columns (Chinese characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in said)
    fill = " " * max(0, width - columns)
    return fill + said if right else said + fill


def _short(sentence: str, width: int = 110) -> str:
    """One line of at most ``width`` characters (a learner's newlines and control
    characters shown escaped)."""
    sentence = escape_controls(sentence, keep="")
    return sentence if len(sentence) <= width else sentence[: width - 1] + "…"


def render(summary: Summary, lang: str = "en") -> str:
    rate = summary.submissions / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        text(
            "summary.graded",
            lang,
            count=summary.submissions,
            seconds=f"{summary.seconds:.1f}",
            rate=f"{rate:.1f}",
            missing=len(summary.not_graded),
        ),
        text(
            "summary.mean_total",
            lang,
            mean=f"{summary.mean_total:.1f}",
            max_score=f"{summary.max_total:g}",
        ),
        "",
    ]
    width = max([22, *(len(s.name) for s in summary.exercises)])
    head = (
        _pad(text("summary.col.exercise", lang), width)
        + "  "
        + _pad(text("summary.col.mean", lang), 9, right=True)
        + "  "
        + _pad(text("summary.col.pass_rate", lang), 9, right=True)
    )
    lines.append(head)
    for s in summary.exercises:
        mean = f"{s.mean:.1f}/{s.max_score:g}"
        lines.append(f"{s.name:<{width}}  {mean:>9}  {s.pass_rate * 100:>8.0f}%")
    if summary.slowest:
        lines += ["", text("summary.slowest", lang)]
        lines += [f"  {printable(student)}  {secs:.2f} s" for student, secs in summary.slowest]
    lines += ["", text("summary.diagnoses", lang)]
    if not summary.diagnoses:
        lines.append("  " + text("summary.none_failed", lang))
    for d in summary.diagnoses:
        lines.append(f"  {d.count:>4}  {d.exercise:<{width}}  {d.key}")
        lines.append(f"        {_short(d.example.render(lang))}")
    if summary.not_graded:
        lines += ["", text("summary.not_graded", lang)]
        lines += [
            f"  {printable(student)}: {printable(why, MAX_CHARS)}"
            for student, why in summary.not_graded.items()
        ]
    return "\n".join(lines)


def as_dict(summary: Summary, lang: str = "en") -> dict[str, Any]:
    return {
        "submissions": summary.submissions,
        "graded": summary.graded,
        "seconds": round(summary.seconds, 3),
        "mean_total": summary.mean_total,
        "max_total": summary.max_total,
        "exercises": [
            {
                "name": s.name,
                "max_score": s.max_score,
                "mean": s.mean,
                "pass_rate": s.pass_rate,
                "passed": s.passed,
                "graded": s.graded,
            }
            for s in summary.exercises
        ],
        "slowest": [{"student": who, "seconds": round(secs, 3)} for who, secs in summary.slowest],
        "diagnoses": [
            {
                "exercise": d.exercise,
                "key": d.key,
                "count": d.count,
                "example": d.example.render(lang),
            }
            for d in summary.diagnoses
        ],
        "not_graded": summary.not_graded,
    }


def plot_pass_rates(summary: Summary, path: Path, lang: str = "en") -> bool:
    """Draw a bar chart of the pass rates into ``path`` (PNG). False when
    matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [s.name for s in summary.exercises]
    rates = [s.pass_rate * 100 for s in summary.exercises]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=150)
    try:
        bars = ax.barh(names[::-1], rates[::-1], color="#4C72B0")
        ax.set_xlim(0, 100)
        ax.set_xlabel(_ascii_or_en("summary.plot_axis", lang))
        ax.set_title(_ascii_or_en("summary.plot_title", lang, count=summary.graded))
        for bar, rate in zip(bars, rates[::-1], strict=True):
            ax.text(
                min(rate + 1, 92),
                bar.get_y() + bar.get_height() / 2,
                f"{rate:.0f}%",
                va="center",
                fontsize=9,
            )
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return True


def _ascii_or_en(key: str, lang: str, **params: object) -> str:
    """Plot labels in the reader's language where matplotlib's default font can
    draw it (it has no Chinese glyphs), else in English."""
    said = text(key, lang, **params)
    return said if said.isascii() else text(key, "en", **params)
