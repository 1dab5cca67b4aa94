"""``--format json``: one object per submission, the documented contract."""

from __future__ import annotations

import json
from typing import Any

from grader.results import SubmissionResult


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
                "feedback": ex.feedback.render(lang) if ex.feedback else "",
                "status": ex.status,
                "checks": [
                    {
                        "name": c.name,
                        "score": c.score,
                        "max_score": c.max_score,
                        "passed": c.passed,
                        "feedback": c.feedback.render(lang) if c.feedback else "",
                    }
                    for c in ex.checks
                ],
            }
            for ex in result.exercises
        ],
    }


def render(result: SubmissionResult, lang: str = "en", color: bool = False) -> str:
    return json.dumps(as_dict(result, lang), ensure_ascii=False)
