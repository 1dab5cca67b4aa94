"""Reading a submission from disk, without trusting it: the folder layout
(``folder.py``) or a notebook (``notebook.py``), into one source per exercise
(``model.py``), and which exercises it holds (``held.py``). Nothing here runs the
learner's code."""

from __future__ import annotations

from pathlib import Path

from grader.registry import Exercise
from grader.submission.folder import decode_source, load_folder, read_source
from grader.submission.held import exercises_held, exercises_to_grade
from grader.submission.locate import Location, locate
from grader.submission.model import MAX_FILE_BYTES, Source, Submission, SubmissionError
from grader.submission.notebook import load_notebook

__all__ = [
    "MAX_FILE_BYTES",
    "Location",
    "Source",
    "Submission",
    "SubmissionError",
    "decode_source",
    "exercises_held",
    "exercises_to_grade",
    "load",
    "load_folder",
    "load_notebook",
    "locate",
    "read_source",
]


def load(path: Path, exercises: tuple[Exercise, ...], *, sid: str | None = None) -> Submission:
    """A folder of ``exNN_*.py`` files, a notebook (``.ipynb``), or a folder holding one
    notebook and no exercise files (``locate``). Notebooks are read, never run
    (``notebook.py``)."""
    where = locate(path, exercises)
    if where.notebook:
        return load_notebook(where.path, exercises, sid=sid or where.sid, root=where.root)
    return load_folder(where.path, exercises, sid=sid)
