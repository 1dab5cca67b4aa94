"""Progress saved between runs: a small JSON file in the learner's folder.

The file (``.grade-progress.json``) records, for each exercise, a digest of the
code last graded and how it did. Graders never read it: a submission is only
ever its ``exNN_*.py`` files. A damaged or unwritable file is treated as empty
progress, never as an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader import __version__
from grader.registry import Exercise
from grader.results import ExerciseResult

STATE_FILE = ".grade-progress.json"
VERSION = 1

PASSED = "passed"
FAILING = "failing"
NOT_STARTED = "not_started"
MISSING = "missing"
STATES = (PASSED, FAILING, NOT_STARTED, MISSING)


@dataclass(frozen=True)
class Record:
    """How one exercise did, the last time its code was graded."""

    digest: str  # sha256 of the code graded
    state: str  # passed, failing or not_started
    score: float
    max_score: float


@dataclass
class Status:
    """What a learner sees for one exercise right now."""

    exercise: Exercise
    state: str
    score: float
    result: ExerciseResult | None = None  # the latest grading in this process, if any


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_of(result: ExerciseResult) -> str:
    if result.passed:
        return PASSED
    feedback = result.feedback
    if result.score == 0 and feedback is not None and feedback.key == "raised.not_implemented":
        return NOT_STARTED
    return FAILING


def record_of(result: ExerciseResult, code_digest: str) -> Record:
    return Record(code_digest, state_of(result), result.score, result.max_score)


def load(folder: Path) -> dict[str, Record]:
    try:
        doc = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        same = doc.get("version") == VERSION and doc.get("grader") == __version__
        entries = doc["exercises"] if same else {}  # another grader: grade afresh
        return {
            name: Record(
                str(e["digest"]), str(e["state"]), float(e["score"]), float(e["max_score"])
            )
            for name, e in entries.items()
            if e.get("state") in STATES
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(folder: Path, records: dict[str, Record]) -> None:
    doc = {
        "version": VERSION,
        "grader": __version__,
        "exercises": {n: asdict(r) for n, r in sorted(records.items())},
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=".grade-progress-", dir=folder)
    except OSError:
        return  # progress is a convenience: a read-only folder still grades
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
        os.replace(tmp, folder / STATE_FILE)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
