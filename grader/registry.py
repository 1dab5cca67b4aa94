"""The one list of exercises. Adding an exercise starts here.

Each exercise has a stub in ``exercises/<file>``, a reference solution in
``solutions/<file>`` and hidden checks in ``grader/checks/<file>``. The self-check
in ``tests/test_registry.py`` fails when these disagree.
"""

from __future__ import annotations

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


def select(names: tuple[str, ...] | list[str] = ()) -> tuple[Exercise, ...]:
    """The exercises named (in registry order), or all of them when none are named."""
    if not names:
        return EXERCISES
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise KeyError(", ".join(unknown))
    return tuple(ex for ex in EXERCISES if ex.name in names)
