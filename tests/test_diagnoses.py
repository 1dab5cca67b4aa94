"""Feedback names the mistake, and only when the evidence supports it.

Every diagnosis issue 3 asks for is fed its mistake (a variant in
``tests/mistakes.py``, graded for real) and the feedback is checked for it;
``diagnose.explain`` is also tested directly for the claims it must not make.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
import torch
from conftest import run_grade
from mistakes import SEEDS, VARIANTS, Variant, grade_variants

from grader.checks import diagnose, show
from grader.messages import CATALOGUES, Feedback, message
from grader.report import text as text_report
from grader.results import SubmissionResult

# Issue 3's list of diagnoses, each with the message keys that carry it.
ISSUE_DIAGNOSES: dict[str, tuple[str, ...]] = {
    "gradient scaled by an integer (accumulation, backward per input)": ("diag.scaled_int",),
    "scaled by 1/n (mean instead of sum, or the reverse)": (
        "diag.mean_instead_of_sum",
        "diag.mean_loss",
        "diag.sum_loss",
    ),
    "sign flipped": ("diag.sign", "diag.ascent"),
    "the value f(x) returned instead of the gradient": ("diag.returned_value",),
    "right only for the seed polynomial": ("diag.hardcoded_seed", "diag.hardcoded_seed_pair"),
    "None instead of zeros": ("type.none",),
    "result still requires grad / has grad_fn": ("side.requires_grad",),
    "grad mode left off": ("side.grad_mode_left_off",),
    "stale grad not cleared": ("diag.stale_kept",),
    "list entries aliasing one another": ("diag.aliasing", "side.aliasing"),
    "a later param updated from an earlier one": ("diag.cross_update",),
    "params replaced instead of updated in place": ("side.params_replaced",),
    "a copy where an alias was asked": ("diag.copy_not_alias",),
    "dtype or device changed": ("type.dtype", "type.moved_to_cpu", "type.default_device"),
    "wrong type returned (float, numpy, list)": ("type.number", "type.numpy", "type.list"),
}

# Unit 2's classic mistakes (exercises 9-12), each with the message keys that name it.
UNIT2_DIAGNOSES: dict[str, tuple[str, ...]] = {
    "trunk called once per head": ("diag.trunk_calls",),
    "retain_graph forgotten": ("diag.retain_graph",),
    ".grad accumulating across heads, aliased, or one backward for all": (
        "diag.heads_accumulated",
        "diag.heads_aliased",
        "diag.heads_summed",
    ),
    "the gradient, or the gradient plus H.v, instead of H.v": (
        "diag.hvp_gradient",
        "diag.hvp_grad_plus",
    ),
    "create_graph forgotten": ("diag.create_graph",),
    "H times ones, the diagonal, H(v).x, g.v": (
        "diag.hvp_no_v",
        "diag.hvp_diagonal",
        "diag.hvp_swapped",
        "diag.hvp_directional",
    ),
    "H.v not from second-order autograd": ("values.not_second_order",),
    "dL/dx for dL/dy, y.grad None, the pair swapped": (
        "diag.dx_for_dy",
        "diag.dy_none",
        "diag.pair_swapped",
    ),
    "stale grad added in, or not put back": ("diag.stale_added", "side.grad_changed"),
    "f or g called twice, two backward passes": ("diag.fg_calls", "diag.two_passes"),
    "no clamp, clamp at x, [0, c], one side, norm clipping": (
        "diag.not_clamped",
        "diag.clamped_at_x",
        "diag.clamped_nonneg",
        "diag.clamped_one_side",
        "diag.clip_norm",
    ),
    "the caller's x changed or a hook left on it": (
        "side.input_now_requires_grad",
        "side.hook_left",
    ),
}

DIAGNOSED = [v for v in VARIANTS if v.diagnosis]


def keys_of(feedback: Feedback | None) -> list[str]:
    if feedback is None:
        return []
    return [feedback.key, *(k for extra in feedback.then for k in keys_of(extra))]


def feedback_of(variant: Variant, check: str, seed: int) -> Feedback | None:
    result = grade_variants(seed)[variant.id]
    return next(c.feedback for c in result.checks if c.name == check)


@pytest.mark.parametrize("label", list(ISSUE_DIAGNOSES))
def test_every_issue_diagnosis_is_fed_its_mistake(label: str) -> None:
    declared = {key for v in DIAGNOSED for key in v.diagnosis.values()}
    for key in ISSUE_DIAGNOSES[label]:
        assert key in CATALOGUES["en"] and key in CATALOGUES["zh"], key
        assert key in declared, f"no variant in tests/mistakes.py shows {key} ({label})"


@pytest.mark.parametrize("label", list(UNIT2_DIAGNOSES))
def test_every_unit2_diagnosis_is_fed_its_mistake(label: str) -> None:
    declared = {key for v in DIAGNOSED for key in v.diagnosis.values()}
    for key in UNIT2_DIAGNOSES[label]:
        assert key in CATALOGUES["en"] and key in CATALOGUES["zh"], key
        assert key in declared, f"no variant in tests/mistakes.py shows {key} ({label})"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", DIAGNOSED, ids=[v.id for v in DIAGNOSED])
def test_feedback_names_the_mistake(variant: Variant, seed: int) -> None:
    for check, key in variant.diagnosis.items():
        feedback = feedback_of(variant, check, seed)
        assert key in keys_of(feedback), (check, feedback.render() if feedback else None)
        said = feedback.render("en")
        template = CATALOGUES["en"][key]
        if not [name for _, name, _, _ in string.Formatter().parse(template) if name]:
            assert template in said  # the learner reads the diagnosis itself
        assert "Traceback" not in said and 'File "' not in said
        assert feedback.render("zh") != said  # and it reads in Chinese too


def test_feedback_says_expected_and_got() -> None:
    """A wrong value shows what was expected and what came back, then the diagnosis."""
    (variant,) = [v for v in VARIANTS if v.id == "vector_grad:sign flipped"]
    said = feedback_of(variant, "values", SEEDS[0]).render()
    assert said.startswith("For f = x**2 + 2*x + 7; x: shape (")
    assert "expected " in said and ", got " in said
    assert said.endswith(CATALOGUES["en"]["diag.sign"])


def test_correct_variants_get_no_feedback() -> None:
    for variant in (v for v in VARIANTS if not v.fails):
        result = grade_variants(SEEDS[0])[variant.id]
        assert all(c.feedback is None for c in result.checks), variant.id


# -- what explain() claims, and what it must not -----------------------------------


def _t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _keys(got: torch.Tensor, expected: torch.Tensor, **kw) -> list[str]:
    return [f.key for f in diagnose.explain(got, expected, torch.float64, **kw)]


def test_explain_names_patterns_every_element_shows() -> None:
    e = _t(1.5, -2.0, 0.25, 4.0)
    assert _keys(-e, e) == ["diag.sign"]
    assert _keys(3 * e, e) == ["diag.scaled_int"]
    assert diagnose.explain(3 * e, e, torch.float64)[0].params == {"k": "3"}
    assert _keys(e / 4, e, numel=4) == ["diag.mean_instead_of_sum"]
    assert _keys(e * 6, e, numel=6) == ["diag.scaled_int"]  # an integer first: backward x6
    assert _keys(e * 0, e) == ["diag.zeros"]
    assert _keys(e * float("nan"), e) == ["diag.not_finite"]


def test_explain_claims_nothing_without_evidence() -> None:
    e = _t(1.5, -2.0, 0.25, 4.0)
    assert _keys(e + _t(0.1, -0.3, 0.2, 0.0), e) == []  # no pattern at all
    assert _keys(2.5 * e, e) == []  # not an integer multiple
    assert _keys(e / 3, e, numel=4) == []  # 1/3 is not 1/n for n = 4
    k2 = e.clone()
    k2[0] *= 2  # only one element doubled: not "backward ran twice"
    assert _keys(k2, e) == []


def test_explain_skips_gradient_stories_for_values_that_are_not_gradients() -> None:
    e = _t(1.5, -2.0, 0.25, 4.0)
    assert _keys(3 * e, e, gradient=False) == []
    assert _keys(e * 0, e, gradient=False) == []
    assert _keys(-e, e, gradient=False) == ["diag.sign"]


def test_explain_uses_a_prediction_only_when_it_differs_from_the_answer() -> None:
    e = _t(1.0, 2.0)
    got = _t(5.0, 7.0)
    assert _keys(got, e, predictions=[("diag.returned_value", got)]) == ["diag.returned_value"]
    # the mistake would have given the right answer here: it cannot be what happened
    assert _keys(e * 2, e, predictions=[("diag.returned_value", e)]) == ["diag.scaled_int"]


def test_explain_refuses_when_two_different_stories_fit() -> None:
    e = _t(1.0, 2.0)
    got = _t(5.0, 7.0)
    both = [("diag.not_zeroed", got), ("diag.stale_kept", got.clone())]
    assert _keys(got, e, predictions=both) == []
    same_story_twice = [("diag.not_zeroed", got), ("diag.not_zeroed", got.clone())]
    assert _keys(got, e, predictions=same_story_twice) == ["diag.not_zeroed"]


def test_integer_scaling_message_reads_well() -> None:
    said = message("diag.scaled_int", k=3).render()
    assert "3 times" in said and "backward()" in said


# -- partial credit in both reports ------------------------------------------------


def test_credit_per_check_in_json_and_text(submission) -> None:
    """A value mistake earns nothing: the type and side-effect checks pass but are
    gated on the values, and both reports say so."""
    (variant,) = [v for v in VARIANTS if v.id == "scalar_grad:returns f(x)"]
    folder: Path = submission({"ex01_scalar_grad.py": variant.source})
    proc = run_grade(str(folder), "--only", "scalar_grad", "--seed", "7", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["exercises"]
    checks = {c["name"]: c for c in entry["checks"]}
    assert set(checks) == {"values", "type", "side_effects"}
    assert checks["values"]["score"] == 0 and not checks["values"]["passed"]
    assert "f(x), not its derivative" in checks["values"]["feedback"]
    for name in ("type", "side_effects"):
        assert checks[name]["passed"] and checks[name]["gated"]
        assert checks[name]["score"] == 0 and checks[name]["max_score"] == 2
    assert entry["score"] == 0 and entry["max_score"] == 10 and entry["passed"] is False
    for c in entry["checks"]:
        assert set(c) >= {"name", "score", "max_score", "passed", "gated", "feedback"}

    result = SubmissionResult("s", [grade_variants(SEEDS[0])[variant.id]], SEEDS[0], "cpu")
    shown = text_report.render(result)
    assert "0/10" in shown
    assert "type, side_effects: passed, but these points count only once the values" in shown
    assert "partial credit" not in shown
    assert "[values]" in shown and "f(x), not its derivative" in shown


def test_explain_names_float32_precision_for_float64_results() -> None:
    e = _t(0.2672000123, -1.5, 4.25)
    got = e * (1 + 3e-8)  # right to about 7 digits: float32's precision
    assert not diagnose.close(got, e, torch.float64)
    assert _keys(got, e) == ["diag.float32_precision"]
    assert [f.key for f in diagnose.explain(got, e, torch.float32)] == []
    assert _keys(e * (1 + 1e-15), e) == []  # float64 rounding: not a mistake at all
    assert diagnose.close(e * (1 + 1e-14), e, torch.float64)
    # another story that fits as well: name none
    assert _keys(got, e, predictions=[("diag.returned_value", got.clone())]) == []


def test_values_that_print_alike_are_shown_with_more_digits() -> None:
    e = torch.tensor(0.26720001234, dtype=torch.float64)
    got = torch.tensor(0.26720003, dtype=torch.float64)
    assert show.tensor(e) == show.tensor(got) == "0.2672"
    shown_e, shown_got = show.apart(e, got)
    assert shown_e != shown_got and shown_e.startswith("0.2672000")
    assert show.apart(_t(1.5, 2.0), _t(1.5, 3.0)) == ("[1.5, 2]", "[1.5, 3]")
