"""The mutation suite: wrong submissions lose exactly the points of their mistake,
correct ones in any style keep every point, on several seeds.

The variants live in ``tests/mistakes.py``; all of one seed are graded through
the public ``grade()`` API (one call per exercise, each a single pytest session).
"""

from __future__ import annotations

from collections import Counter

import pytest
from mistakes import SEEDS, VALUES, VARIANTS, Variant, grade_variants

from grader import registry


def _failed(variant: Variant, seed: int) -> tuple[set[str], str]:
    result = grade_variants(seed)[variant.id]
    failed = {c.name for c in result.checks if not c.passed}
    said = "; ".join(
        f"[{c.name}] {c.feedback.render() if c.feedback else ''}"
        for c in result.checks
        if not c.passed
    )
    return failed, said


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_variant_loses_exactly_its_checks(variant: Variant, seed: int) -> None:
    failed, said = _failed(variant, seed)
    assert failed == set(variant.fails), said
    result = grade_variants(seed)[variant.id]
    assert result.status == "ok"
    for check in result.checks:
        assert check.score == (0.0 if check.name in variant.fails else check.max_score)
    if not variant.fails:
        assert result.passed and result.score == result.max_score


@pytest.mark.parametrize("seed", SEEDS)
def test_value_mistakes_score_zero_on_values_and_full_elsewhere(seed: int) -> None:
    for variant in (v for v in VARIANTS if v.fails == VALUES):
        result = grade_variants(seed)[variant.id]
        scores = {c.name: (c.score, c.max_score) for c in result.checks}
        assert scores["values"][0] == 0.0, variant.id
        assert scores["type"][0] == scores["type"][1] > 0, variant.id
        assert scores["side_effects"][0] == scores["side_effects"][1] > 0, variant.id
        assert 0 < result.score < result.max_score, variant.id


def test_every_exercise_has_six_value_mistakes_and_three_correct_styles() -> None:
    value_mistakes = Counter(v.exercise for v in VARIANTS if v.fails == VALUES)
    correct = Counter(v.exercise for v in VARIANTS if not v.fails)
    for ex in registry.EXERCISES:
        assert value_mistakes[ex.name] >= 6, ex.name
        assert correct[ex.name] >= 3, ex.name
    assert len({v.id for v in VARIANTS}) == len(VARIANTS)  # ids are unique


def test_the_seed_tutorials_update_bug_is_named() -> None:
    """The seed's demo7 updates w2 from w1's new data. Written for any params (shape
    permitting) it is a pure value mistake; copied as written it also breaks on
    params of other shapes. Either way the values feedback names the bug."""
    seed_bugs = [v for v in VARIANTS if v.name.startswith("the seed's")]
    assert len(seed_bugs) == 2
    for variant in seed_bugs:
        for seed in SEEDS:
            result = grade_variants(seed)[variant.id]
            values = next(c for c in result.checks if c.name == "values")
            assert values.score == 0 and values.feedback is not None
            keys = [values.feedback.key, *(t.key for t in values.feedback.then)]
            assert "diag.cross_update" in keys, values.feedback.render()
