"""The one list of exercises. Adding an exercise starts here.

Each exercise has a stub in ``exercises/<file>``, a reference solution in
``solutions/<file>`` and hidden checks in ``grader/checks/<file>``. The self-check
in ``tests/test_registry.py`` fails when these disagree.

Exercises come in units (``Exercise.unit``). Which units a command grades is
decided here and nowhere else (``to_grade``): a submission is graded on every
unit it holds at least one exercise of, the first unit when it holds none, or
what ``--only``/``--unit`` ask for. A new unit is new entries below (and their
files): every command picks it up from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    order: int
    name: str  # the function the learner writes; also the name in every report
    file: str  # the file in exercises/, solutions/ and grader/checks/
    title: str
    points: float
    unit: int = 1  # exercises come in units: 1 the tutorial's eight, 2 what comes next

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".py")

    @property
    def check_module(self) -> str:
        return f"grader.checks.{self.stem}"


EXERCISES: tuple[Exercise, ...] = (
    Exercise(1, "scalar_grad", "ex01_scalar_grad.py", "Derivative of a scalar function", 10),
    Exercise(2, "vector_grad", "ex02_vector_grad.py", "Gradient of a summed vector", 10),
    Exercise(3, "partial_grads", "ex03_partial_grads.py", "Partial derivatives", 10),
    Exercise(4, "evaluate_without_grad", "ex04_no_grad.py", "Switching gradients off", 10),
    Exercise(5, "accumulated_grad", "ex05_accumulate.py", "Gradients accumulate", 10),
    Exercise(6, "fresh_grads", "ex06_zero_grad.py", "Zeroing gradients", 10),
    Exercise(7, "gradient_descent", "ex07_manual_update.py", "A manual update loop", 10),
    Exercise(8, "detach_alias", "ex08_detach.py", "detach() shares storage", 10),
    # unit 2: exercises 9-12
    Exercise(
        9,
        "shared_trunk_grads",
        "ex09_retain_graph.py",
        "Backward twice through one graph",
        10,
        unit=2,
    ),
    Exercise(10, "hvp", "ex10_higher_order.py", "Higher-order gradients", 10, unit=2),
    Exercise(
        11,
        "intermediate_grads",
        "ex11_intermediate_grad.py",
        "Gradients at intermediate tensors",
        10,
        unit=2,
    ),
    Exercise(12, "clipped_grad", "ex12_hooks.py", "Hooks that change a gradient", 10, unit=2),
    # unit 2: exercises 13-16
    Exercise(13, "round_ste", "ex13_custom_function.py", "A straight-through gradient", 10, unit=2),
    Exercise(14, "jacobian", "ex14_jacobian.py", "The Jacobian, row by row", 10, unit=2),
    Exercise(15, "to_numpy", "ex15_numpy_bridge.py", "From a tensor to NumPy", 10, unit=2),
    Exercise(16, "save_weights", "ex16_save_weights.py", "Saving weights", 10, unit=2),
)

BY_NAME: dict[str, Exercise] = {ex.name: ex for ex in EXERCISES}
UNITS: tuple[int, ...] = tuple(sorted({ex.unit for ex in EXERCISES}))


def units() -> tuple[int, ...]:
    """Every unit, in order."""
    return UNITS


def select(names: Iterable[str] = (), units: Iterable[int] = ()) -> tuple[Exercise, ...]:
    """The exercises named that belong to the units given, in registry order; no
    names means every exercise of those units, no units every unit, neither all.
    Raises ``KeyError`` for an unknown name, ``ValueError`` for an unknown unit."""
    names, chosen = tuple(names), tuple(units)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise KeyError(", ".join(unknown))
    strange = [str(u) for u in chosen if u not in UNITS]
    if strange:
        raise ValueError(f"unknown unit {', '.join(strange)}")
    return tuple(
        ex
        for ex in EXERCISES
        if (not names or ex.name in names) and (not chosen or ex.unit in chosen)
    )


def units_of(names: Iterable[str]) -> tuple[int, ...]:
    """The units holding at least one of these exercises (function names), in order."""
    found = {BY_NAME[n].unit for n in names if n in BY_NAME}
    return tuple(u for u in UNITS if u in found)


def to_grade(
    present: Iterable[str], *, names: Iterable[str] = (), units: Iterable[int] = ()
) -> tuple[Exercise, ...]:
    """The exercises to grade for a submission, or a class, in which the exercises
    named in ``present`` were found (a file of the folder layout, a function of a
    notebook): every exercise of each unit it holds one of, so a missing file
    costs its points; the first unit when it holds none. ``names`` (``--only``)
    and ``units`` (``--unit``) override what was found. Raises as ``select``."""
    names, units = tuple(names), tuple(units)
    if names or units:
        return select(names, units)
    return select(units=units_of(present) or UNITS[:1])
