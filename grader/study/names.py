"""Finding an exercise by what a learner is likely to type."""

from __future__ import annotations

from grader.registry import EXERCISES, Exercise


def find_exercise(name: str) -> Exercise:
    """By function name (``scalar_grad``), file (``ex01_scalar_grad.py``), stem,
    ``ex01`` or number (``1``). Raises ``KeyError`` for anything else."""
    wanted = name.strip().lower().removesuffix(".py")
    for ex in EXERCISES:
        number = f"{ex.order:02d}"
        if wanted in (ex.name, ex.stem, f"ex{number}", number, str(ex.order)):
            return ex
    raise KeyError(name)


def complete(prefix: str) -> list[str]:
    """Exercise names starting with ``prefix``, for shell completion."""
    return [ex.name for ex in EXERCISES if ex.name.startswith(prefix)] or [
        ex.stem for ex in EXERCISES if ex.stem.startswith(prefix)
    ]
