"""The check a learner's test cell runs inside their own notebook kernel.

``check("scalar_grad", scalar_grad)`` runs the exercise's hidden checks on
fresh random inputs right in the kernel, prints the same feedback ``grade``
prints, and returns the points earned, which nbgrader reads as partial credit.
Nothing goes to stderr (nbgrader scores a cell with any stderr output as
failed): warnings and stray stderr writes of the learner's code are shown on
stdout.

This is feedback, not proof. Code in the same kernel can replace ``check``,
torch, or anything else a test cell calls, so an instructor's grades come from
``grade nbgrader autograde``, which reads the notebook and runs the learner's
code in the sandbox, outside the kernel.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable
from typing import Any

import torch

from grader import registry
from grader.cases import Case
from grader.checks.plugin import run_checks
from grader.checks.run import ExerciseRun
from grader.grading import CHECK_MODULES, _exercise_result, draw_cases, new_seed
from grader.messages import language_from_env, text
from grader.registry import Exercise
from grader.report.text import exercise_line
from grader.results import ExerciseResult
from grader.runner import wire
from grader.runner.execute import Outcome, _decode_answer
from grader.runner.observe import Recorder
from grader.runner.worker import describe_exception

MAX_WARNINGS_SHOWN = 3


def check(name: str, fn: Callable[..., Any], *, lang: str | None = None) -> float:
    """Check ``fn`` as exercise ``name`` here, print feedback, return the points earned."""
    lang = lang or language_from_env()
    exercise = registry.BY_NAME[name]
    with contextlib.redirect_stderr(sys.stdout), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check_here(exercise, fn)
    print(exercise_line(result, lang, color=False))
    seen: list[str] = []
    for warning in caught:
        said = f"{warning.category.__name__}: {warning.message}"
        if said not in seen and len(seen) < MAX_WARNINGS_SHOWN:
            seen.append(said)
            print("    " + text("kernel.warning", lang, warning=said))
    print(text("kernel.feedback_only", lang))
    return float(result.score)


def check_here(
    exercise: Exercise, fn: Callable[..., Any], seed: int | None = None
) -> ExerciseResult:
    """The exercise's checks on ``fn`` in this process (no sandbox: this is the learner's)."""
    cases = draw_cases(exercise, new_seed() if seed is None else seed, "cpu")
    outcome = probe_here(exercise, fn, cases)
    run = ExerciseRun("notebook", exercise, cases, outcome, None)
    return _exercise_result(exercise, run, run_checks([run]))


def probe_here(exercise: Exercise, fn: Callable[..., Any], cases: list[Case]) -> Outcome:
    """What a worker does with the learner's function, in this process.

    The answer goes through the same wire encoding and decoding as a worker's,
    so the checks see exactly the kind of data they see when grading.
    """
    probe = CHECK_MODULES[exercise.name].probe
    code = getattr(fn, "__code__", None)
    filename = str(getattr(code, "co_filename", ""))
    mode = torch.is_grad_enabled()
    results: list[dict[str, Any]] = []
    tensors: dict[str, torch.Tensor] = {}
    for index, case in enumerate(cases):
        rec = Recorder()
        live = case.materialize()
        torch._C._set_grad_enabled(bool(live.meta.get("grad_mode", True)))
        entry: dict[str, Any] = {"status": "ok"}
        try:
            probe(fn, live, rec)
        except (Exception, SystemExit) as exc:  # Ctrl-C still stops the cell
            entry = {"status": "raised", "error": describe_exception(exc, filename)}
        finally:
            torch._C._set_grad_enabled(mode)
        entry["facts"] = rec.facts
        results.append(entry)
        for key, t in rec.tensors.items():
            tensors[f"{index}/{key}"] = t
    try:
        blob = wire.encode(tensors, {"status": "ok", "cases": results})
    except Exception as exc:
        return Outcome("bad_output", {"why": str(exc)[:200]})
    return _decode_answer(blob)
