"""Reading a submission from disk, without trusting it: the folder layout
(``folder.py``) or a notebook (``notebook.py``), into one source per exercise
(``model.py``). Nothing here runs the learner's code."""

from __future__ import annotations

from pathlib import Path

from grader.registry import Exercise
from grader.submission.folder import decode_source, load_folder, read_source
from grader.submission.model import MAX_FILE_BYTES, Source, Submission, SubmissionError
from grader.submission.notebook import load_notebook
from grader.text_safety import printable

__all__ = [
    "MAX_FILE_BYTES",
    "Source",
    "Submission",
    "SubmissionError",
    "decode_source",
    "load",
    "load_folder",
    "load_notebook",
    "read_source",
]


def load(path: Path, exercises: tuple[Exercise, ...], *, sid: str | None = None) -> Submission:
    """A folder of ``exNN_*.py`` files, a notebook (``.ipynb``), or a folder holding one
    notebook and no exercise files. Notebooks are read, never run
    (``notebook.py``)."""
    from grader.registry import EXERCISES

    if path.is_dir():
        if any((path / ex.file).is_symlink() or (path / ex.file).exists() for ex in EXERCISES):
            return load_folder(path, exercises, sid=sid)
        notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        if len(notebooks) > 1:
            names = ", ".join(p.name for p in notebooks[:4])
            raise SubmissionError(
                f"{path} holds several notebooks ({names}): name the one to grade"
            )
        if notebooks:
            sid = sid or printable(path.name or str(path))
            return load_notebook(notebooks[0], exercises, sid=sid, root=path.resolve())
        names = ", ".join(ex.file for ex in exercises[:3])
        raise SubmissionError(
            f"{path} holds none of the exercise files ({names}, ...) and no notebook (.ipynb)"
        )
    if path.suffix == ".ipynb":
        return load_notebook(path, exercises, sid=sid)
    if path.exists():
        raise SubmissionError(f"{path} is neither a folder nor a notebook (.ipynb)")
    return load_folder(path, exercises, sid=sid)  # says that it does not exist
