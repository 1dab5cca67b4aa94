"""Grade the reference solutions under many seeds and report every lost point.

    .venv/bin/python bench/seeds.py                 # 1,000 seeds, batched
    .venv/bin/python bench/seeds.py --seeds 200 --first 5000
    .venv/bin/python bench/seeds.py --per-seed      # one grade() call per seed
    .venv/bin/python bench/seeds.py --folder my/solutions
    .venv/bin/python bench/seeds.py --only hvp --only clipped_grad   # some exercises

A correct submission must get full marks whatever the hidden inputs, so this
must report zero failures. Every seed draws both float dtypes for every
exercise (``grader.checks.draw``); the report counts the cases per dtype.

By default seeds are graded in batches: for each exercise, one sandboxed worker
runs the cases of every seed in the batch, and one pytest session checks all
the batch's runs. The learner's code, the probes, the wire and the checks are
the ones ``grade`` uses; only the grouping differs. ``--per-seed`` goes through
``grader.grading.grade`` itself, once per seed (slower).

Exit status 1 when any seed lost a point.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from grader import registry
from grader.cases import Case
from grader.checks.plugin import run_checks
from grader.checks.run import ExerciseRun
from grader.grading import Settings, draw_cases, grade
from grader.registry import Exercise
from grader.runner.execute import Job, Limits, Outcome, Sandbox
from grader.submission import Submission, load_folder

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Failure:
    seed: int
    exercise: str
    check: str
    feedback: str


def dtype_counts(cases: list[Case]) -> Counter[str]:
    """Cases per dtype of their first tensor input."""
    counts: Counter[str] = Counter()
    for case in cases:
        first = next(iter(case.tensors.values()), None)
        if first is not None:
            counts[str(first.dtype).removeprefix("torch.")] += 1
    return counts


def batched(
    sub: Submission,
    seeds: list[int],
    box: Sandbox,
    *,
    device: str,
    exercises: tuple[Exercise, ...] = registry.EXERCISES,
) -> tuple[list[Failure], Counter[str]]:
    """Grade ``sub`` under ``seeds``: one worker per exercise, one pytest session."""
    runs: list[ExerciseRun] = []
    counts: Counter[str] = Counter()
    for ex in exercises:
        per_seed = {seed: draw_cases(ex, seed, device) for seed in seeds}
        for cases in per_seed.values():
            counts += dtype_counts(cases)
        source = sub.sources[ex.file]
        everything = [case for cases in per_seed.values() for case in cases]
        outcome = box.run(Job(ex, source.text, source.filename, everything, source.problem))
        runs += split(ex, sub, per_seed, outcome)
    failures = []
    for verdict in run_checks(runs):
        if not verdict.passed:
            seed = int(verdict.submission.rsplit("@", 1)[1])
            said = verdict.feedback.render() if verdict.feedback else ""
            failures.append(Failure(seed, verdict.exercise, verdict.check, said))
    return failures, counts


def split(
    ex: Exercise, sub: Submission, per_seed: dict[int, list[Case]], outcome: Outcome
) -> list[ExerciseRun]:
    """One run per seed, each with its own cases and observations."""
    runs = []
    start = 0
    for seed, cases in per_seed.items():
        mine = Outcome(outcome.status, outcome.detail, [], outcome.seconds)
        if outcome.status == "ok":
            mine.observations = outcome.observations[start : start + len(cases)]
        start += len(cases)
        source = sub.sources[ex.file].text
        runs.append(ExerciseRun(f"{sub.id}@{seed}", ex, cases, mine, source))
    return runs


def per_seed(
    sub: Submission,
    seeds: list[int],
    box: Sandbox,
    *,
    device: str,
    exercises: tuple[Exercise, ...] = registry.EXERCISES,
) -> tuple[list[Failure], Counter[str]]:
    """Grade ``sub`` under each seed with ``grade()`` itself."""
    failures = []
    counts: Counter[str] = Counter()
    for seed in seeds:
        for ex in exercises:
            counts += dtype_counts(draw_cases(ex, seed, device))
        (result,) = grade([sub], exercises, Settings(device, seed), sandbox=box)
        for ex in result.exercises:
            for check in ex.checks:
                if not check.passed:
                    said = check.feedback.render() if check.feedback else ""
                    failures.append(Failure(seed, ex.name, check.name, said))
    return failures, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds (1000)")
    parser.add_argument("--first", type=int, default=0, help="the first seed (0)")
    parser.add_argument("--batch", type=int, default=50, help="seeds per worker (50)")
    parser.add_argument("--per-seed", action="store_true", help="one grade() call per seed")
    parser.add_argument("--folder", type=Path, default=ROOT / "solutions")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only this exercise"
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")

    try:
        exercises = registry.select(args.only)
    except KeyError as unknown:
        parser.error(f"--only: unknown exercise {unknown}")
    sub = load_folder(args.folder, exercises)
    seeds = list(range(args.first, args.first + args.seeds))
    # one sandbox for every seed: no overall budget across them (each seed is one run)
    limits = Limits(timeout=max(30.0, 2.0 * args.batch), memory_mb=4096, total=1e9)
    failures: list[Failure] = []
    counts: Counter[str] = Counter()
    started = time.monotonic()
    with Sandbox(limits) as box:
        step = 1 if args.per_seed else args.batch
        for at in range(0, len(seeds), step):
            chunk = seeds[at : at + step]
            how = per_seed if args.per_seed else batched
            found, seen = how(sub, chunk, box, device=args.device, exercises=exercises)
            failures += found
            counts += seen
            done = at + len(chunk)
            print(f"\r{done}/{len(seeds)} seeds, {len(failures)} failures", end="", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(file=sys.stderr)

    for f in failures[:50]:
        print(f"seed {f.seed}: {f.exercise} [{f.check}] {f.feedback}")
    if len(failures) > 50:
        print(f"... and {len(failures) - 50} more")
    cases = ", ".join(f"{n} {dtype}" for dtype, n in sorted(counts.items()))
    mode = "per seed" if args.per_seed else f"batches of {args.batch}"
    print(
        f"{args.folder.name}: {len(seeds)} seeds (from {args.first}) x {len(exercises)} "
        f"exercises on {args.device}, {mode}: {len(failures)} failed checks; "
        f"cases: {cases}; {elapsed:.1f} s ({elapsed / len(seeds) * 1000:.0f} ms per seed)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
