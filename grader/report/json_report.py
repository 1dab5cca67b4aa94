"""``--format json``: one object per submission, the documented contract."""

from __future__ import annotations

import json
from typing import Any

from grader.messages import Feedback
from grader.results import SubmissionResult
from grader.text_safety import clean_data, escape_controls


def _said(feedback: Feedback | None, lang: str) -> str:
    """The sentence, with control characters escaped as in every other format, so
    that printing a field (``jq -r``) cannot drive a terminal either."""
    return escape_controls(feedback.render(lang)) if feedback else ""


def as_dict(result: SubmissionResult, lang: str = "en") -> dict[str, Any]:
    return {
        "score": float(result.score),
        "max_score": float(result.max_score),
        "seed": result.seed,
        "device": result.device,
        "sandbox": result.sandbox,
        "exercises": [
            {
                "name": ex.name,
                "score": float(ex.score),
                "max_score": float(ex.max_score),
                "passed": ex.passed,
                "feedback": _said(ex.feedback, lang),
                "status": ex.status,
                "checks": [
                    {
                        "name": c.name,
                        "score": c.score,
                        "max_score": c.max_score,
                        "passed": c.passed,
                        "gated": c.gated,
                        "feedback": _said(c.feedback, lang),
                    }
                    for c in ex.checks
                ],
            }
            for ex in result.exercises
        ],
    }


def render(result: SubmissionResult, lang: str = "en", color: bool = False) -> str:
    # Cleaned as a whole too: whatever string slipped through, the output stays encodable.
    return json.dumps(clean_data(as_dict(result, lang), None), ensure_ascii=False)
