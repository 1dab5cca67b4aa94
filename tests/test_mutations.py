"""The mutation suite: wrong submissions lose exactly the points of their mistake,
correct ones in any style keep every point, on several seeds; and every one of
them gets the same verdict on 20 seeds.

The variants live in ``tests/mistakes.py``; all of one seed are graded through
the public ``grade()`` API (one call per exercise, each a single pytest session).
Credit follows the default policy (``grading.CREDIT_POLICIES``): the ``type`` and
``side_effects`` points count only when ``values`` passes.
"""

from __future__ import annotations

from collections import Counter

import pytest
from mistakes import SEEDS, VALUES, VARIANTS, VERDICT_SEEDS, Variant, grade_variants

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
    values_wrong = "values" in variant.fails
    for check in result.checks:
        earns = check.name not in variant.fails and not values_wrong
        assert check.score == (check.max_score if earns else 0.0), check.name
        assert check.gated == (values_wrong and check.name not in variant.fails)
    if not variant.fails:
        assert result.passed and result.score == result.max_score


@pytest.mark.parametrize("seed", SEEDS)
def test_a_wrong_value_earns_nothing_and_a_slip_beside_right_values_keeps_them(
    seed: int,
) -> None:
    for variant in VARIANTS:
        result = grade_variants(seed)[variant.id]
        if "values" in variant.fails:
            assert result.score == 0.0, variant.id
        elif variant.fails:  # right values, a type or side-effect slip: values points kept
            assert 0 < result.score < result.max_score, variant.id
            values = next(c for c in result.checks if c.name == "values")
            assert values.score == values.max_score > 0, variant.id


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_one_verdict_on_every_seed(variant: Variant) -> None:
    """Passed or not, and the same failing checks, on each of 20 seeds."""
    verdicts = {}
    for seed in VERDICT_SEEDS:
        result = grade_variants(seed)[variant.id]
        verdicts[seed] = (result.passed, frozenset(c.name for c in result.checks if not c.passed))
    assert set(verdicts.values()) == {(not variant.fails, variant.fails)}, verdicts


def test_the_issues_named_mistakes_are_in_the_suite() -> None:
    """Issue 9's examples: backward(ones_like(x)) in vector_grad, .contiguous() in
    detach_alias, torch.optim through importlib, central differences."""
    names = {v.id for v in VARIANTS}
    assert "vector_grad:backward(torch.ones_like(x)): right only when f(x) has x's shape" in names
    assert "detach_alias:detach().contiguous(): a copy when x is strided" in names
    assert "gradient_descent:torch.optim reached through importlib" in names
    assert "scalar_grad:central differences in float64" in names


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
