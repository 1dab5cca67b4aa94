"""What a submission is once read: one source per exercise file, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 1 << 20


class SubmissionError(Exception):
    """The path cannot be graded at all (a usage error, not a learner's mistake)."""


@dataclass
class Source:
    text: str | None  # None: the file is missing
    filename: str  # shown in the learner's tracebacks
    problem: str = ""  # why the file could not be read


@dataclass
class Submission:
    id: str
    path: Path
    sources: dict[str, Source] = field(default_factory=dict)  # by exercise file name
