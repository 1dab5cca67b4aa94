"""Hints and solution explanations for learners, one catalogue per language.

Each exercise has two or three hints, from a nudge that gives no code away to
one that is nearly the answer, and a short explanation shown with the reference
solution. ``tests/test_study.py`` checks that both catalogues cover every
exercise with the same number of hints.
"""

from __future__ import annotations

from grader.hints import en, zh

HINTS: dict[str, dict[str, tuple[str, ...]]] = {"en": en.HINTS, "zh": zh.HINTS}
EXPLANATIONS: dict[str, dict[str, str]] = {"en": en.EXPLANATIONS, "zh": zh.EXPLANATIONS}


def hints_for(name: str, lang: str = "en") -> tuple[str, ...]:
    """The hints of exercise ``name`` (a function name), gentlest first."""
    return HINTS.get(lang, en.HINTS).get(name) or en.HINTS[name]


def explanation_for(name: str, lang: str = "en") -> str:
    return EXPLANATIONS.get(lang, en.EXPLANATIONS).get(name) or en.EXPLANATIONS[name]
