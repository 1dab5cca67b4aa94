"""``--format gradescope``: the ``results.json`` that a Gradescope autograder writes.

One Gradescope test per exercise, so the learner sees the same eight lines as in
the text report, each with its points and, when it failed, what to fix. The
fields follow Gradescope's autograder specification (score, execution_time,
output, tests[] with name, score, max_score, status, output, visibility).
"""

from __future__ import annotations

import json
from typing import Any

from grader.messages import text
from grader.report.text import block, check_label
from grader.results import ExerciseResult, SubmissionResult
from grader.text_safety import clean_data

VISIBILITY = "visible"  # learners see their own results as soon as they come back


def test_output(ex: ExerciseResult, lang: str) -> str:
    """The checks of one exercise: which passed, and what each failing one said."""
    lines = []
    said: set[str] = set()
    for check in ex.checks:
        mark = "✓" if check.passed else "✗"
        label = check_label(check.name, lang)
        lines.append(f"{mark} {label}: {check.score:g}/{check.max_score:g}")
        if check.gated:
            lines.append("  " + text("report.gated", lang, checks=label))
        if not check.passed and check.feedback:
            sentence = check.feedback.render(lang)
            if sentence not in said:  # one run failure often explains every check
                said.add(sentence)
                lines.append(block("  ", sentence))
    return "\n".join(lines)


def as_dict(result: SubmissionResult, lang: str = "en") -> dict[str, Any]:
    total = text(
        "report.total",
        lang,
        score=f"{result.score:g}",
        max_score=f"{result.max_score:g}",
        seconds=f"{result.seconds:.1f}",
    )
    return {
        "score": float(result.score),
        "execution_time": round(float(result.seconds), 3),
        "output": total + "\n" + text("report.seed", lang, seed=result.seed, device=result.device),
        "output_format": "text",
        "visibility": VISIBILITY,
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": f"{ex.name}: {text(f'title.{ex.name}', lang)}",
                "number": str(index),
                "score": float(ex.score),
                "max_score": float(ex.max_score),
                "status": "passed" if ex.passed else "failed",
                "output": test_output(ex, lang),
                "output_format": "text",
                "visibility": VISIBILITY,
            }
            for index, ex in enumerate(result.exercises, start=1)
        ],
    }


def render(result: SubmissionResult, lang: str = "en", color: bool = False) -> str:
    return json.dumps(clean_data(as_dict(result, lang), None), ensure_ascii=False, indent=1)
