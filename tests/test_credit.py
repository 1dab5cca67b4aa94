"""An exercise earns points only when its values are right (the default credit
policy), and ``--partial-credit checks`` gives every passing check its points.

Trivial answers (zeros, None, the input copied back, params left untouched, a
copy where an alias is asked) are graded through the installed ``grade``
command on several seeds: each must score 0 on every exercise.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import ALL_POINTS, SOLUTIONS, grade_json, make_submission

from grader import registry

SIGNATURES = {
    "scalar_grad": "f, x",
    "vector_grad": "f, x",
    "partial_grads": "f, *xs",
    "evaluate_without_grad": "f, x",
    "accumulated_grad": "f, x, times",
    "fresh_grads": "fs, x",
    "gradient_descent": "f, params, lr, steps",
    "detach_alias": "x",
    # unit 2: exercises 9-12
    "shared_trunk_grads": "trunk, heads, x",
    "hvp": "f, x, v",
    "intermediate_grads": "f, g, x",
    "clipped_grad": "f, g, x, c",
    # unit 2: exercises 13-16
    "round_ste": "x",
    "jacobian": "f, x",
    "to_numpy": "t",
    "save_weights": "params, path",
}

# What a learner who does no autograd work at all might return, per exercise
# (``*`` for the exercises not named).
TRIVIAL: dict[str, dict[str, str]] = {
    "zeros": {
        "shared_trunk_grads": "return [torch.zeros_like(x) for h in heads]",
        "intermediate_grads": "return torch.zeros_like(f(x)), torch.zeros_like(x)",
        "jacobian": "return torch.zeros(f(x).shape[0], x.shape[0], dtype=x.dtype)",
        "to_numpy": "return torch.zeros_like(t).cpu().numpy()",
        "save_weights": "torch.save([torch.zeros_like(p).cpu() for p in params], path)",
        "partial_grads": "return tuple(torch.zeros_like(x) for x in xs)",
        "fresh_grads": "return [torch.zeros_like(x) for f in fs]",
        "gradient_descent": "return params",
        "*": "return torch.zeros_like(x)",
    },
    "None": {"*": "return None"},
    "the input copied back": {
        "shared_trunk_grads": "return [x.detach().clone() for h in heads]",
        "intermediate_grads": "return f(x).detach().clone(), x.detach().clone()",
        "to_numpy": "return t.detach().clone()",
        "save_weights": "torch.save(params, path)",
        "partial_grads": "return tuple(x.detach().clone() for x in xs)",
        "fresh_grads": "return [x.detach().clone() for f in fs]",
        "gradient_descent": "return params",
        "*": "return x.detach().clone()",
    },
    "the input itself, detached": {
        "shared_trunk_grads": "return [x.detach() for h in heads]",
        "intermediate_grads": "return x.detach(), x.detach()",
        "to_numpy": "return t.detach()",
        "save_weights": "torch.save([p.detach().cpu() for p in params], path)",
        "partial_grads": "return tuple(x.detach() for x in xs)",
        "fresh_grads": "return [x.detach() for f in fs]",
        "gradient_descent": "return [p for p in params]",
        "detach_alias": "return x.detach().clone()",
        "*": "return x.detach()",
    },
    "x.grad as it is": {
        "shared_trunk_grads": "return [x.grad if x.grad is not None else 0 * x for h in heads]",
        "intermediate_grads": "return (torch.zeros_like(x) if x.grad is None else x.grad,) * 2",
        "hvp": "return torch.zeros_like(v) if x.grad is None else x.grad",
        "to_numpy": "return t.grad",
        "save_weights": "torch.save([p.grad for p in params], path)",
        "partial_grads": "return tuple(x.grad if x.grad is not None else 0 * x for x in xs)",
        "fresh_grads": "return [x.grad.clone() if x.grad is not None else 0 * x for f in fs]",
        "gradient_descent": "return params",
        "detach_alias": "return x.clone().detach()",
        "evaluate_without_grad": "return x.detach() * 0",
        "*": "return torch.zeros_like(x) if x.grad is None else x.grad",
    },
}  # fmt: skip


def trivial_submission(tmp: Path, kind: str) -> Path:
    folder = tmp / kind.replace(" ", "_").replace(",", "")
    folder.mkdir()
    bodies = TRIVIAL[kind]
    for ex in registry.EXERCISES:
        body = bodies.get(ex.name, bodies["*"])
        (folder / ex.file).write_text(
            f"import torch\n\n\ndef {ex.name}({SIGNATURES[ex.name]}):\n    {body}\n"
        )
    return folder


@pytest.mark.parametrize("kind", TRIVIAL)
def test_a_trivial_answer_scores_zero_on_every_exercise(tmp_path: Path, kind: str) -> None:
    folder = trivial_submission(tmp_path, kind)
    for seed in (1, 2, 3):
        report = grade_json(str(folder), "--seed", str(seed))
        scores = {ex["name"]: ex["score"] for ex in report["exercises"]}
        assert scores == {ex.name: 0.0 for ex in registry.EXERCISES}, (seed, scores)
        assert report["score"] == 0.0


def test_right_values_with_a_leaked_graph_keep_the_value_points(tmp_path: Path) -> None:
    leaky = """\
        import torch


        def vector_grad(f, x):
            leaf = x.detach().requires_grad_()
            (g,) = torch.autograd.grad(f(leaf).sum(), leaf, create_graph=True)
            return g
        """
    folder = make_submission(tmp_path, {"ex02_vector_grad.py": textwrap.dedent(leaky)})
    report = grade_json(str(folder), "--only", "vector_grad", "--seed", "4")
    (ex,) = report["exercises"]
    assert ex["score"] == 8.0
    checks = {c["name"]: c for c in ex["checks"]}
    assert checks["values"]["passed"] and checks["type"]["passed"]
    assert not checks["side_effects"]["passed"]
    assert "grad_fn" in checks["side_effects"]["feedback"]


def test_type_and_side_effect_points_wait_on_the_values(tmp_path: Path) -> None:
    folder = trivial_submission(tmp_path, "zeros")
    gated = grade_json(str(folder), "--only", "scalar_grad", "--seed", "5")
    (ex,) = gated["exercises"]
    checks = {c["name"]: c for c in ex["checks"]}
    assert not checks["values"]["passed"]
    assert checks["type"]["passed"] and checks["type"]["gated"]
    assert checks["type"]["score"] == 0.0 and ex["score"] == 0.0

    per_check = grade_json(
        str(folder), "--only", "scalar_grad", "--seed", "5", "--partial-credit", "checks"
    )
    (ex,) = per_check["exercises"]
    checks = {c["name"]: c for c in ex["checks"]}
    assert checks["type"]["score"] == 2.0 and not checks["type"]["gated"]
    assert ex["score"] == 4.0  # type and side_effects, as before the gate


def test_the_text_report_says_why_passing_checks_earned_nothing(tmp_path: Path) -> None:
    from conftest import run_grade

    folder = trivial_submission(tmp_path, "zeros")
    proc = run_grade(str(folder), "--only", "scalar_grad", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert "type, side_effects: passed, but these points count only once the values" in (
        proc.stdout
    )
    assert "partial credit" not in proc.stdout


def test_the_reference_solutions_lose_nothing_under_either_policy() -> None:
    for policy in ("gate", "checks"):
        report = grade_json(str(SOLUTIONS), "--partial-credit", policy, "--seed", "9")
        assert report["score"] == report["max_score"] == ALL_POINTS, policy  # every unit
