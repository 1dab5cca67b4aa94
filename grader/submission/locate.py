"""Where a submission's work is: the folder layout, or a notebook (alone or in a folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.registry import EXERCISES, Exercise
from grader.submission.model import SubmissionError
from grader.text_safety import printable


@dataclass(frozen=True)
class Location:
    path: Path  # the folder of exNN files, or the notebook
    notebook: bool = False
    root: Path | None = None  # a notebook found in a folder: links must stay inside it
    sid: str | None = None  # the submission's name when it is not the notebook's


def locate(path: Path, exercises: tuple[Exercise, ...] = EXERCISES) -> Location:
    """A folder holding any exercise file of any unit is the folder layout; a folder
    without one must hold exactly one notebook. ``exercises`` only names examples
    in the error. Raises ``SubmissionError`` when there is nothing to grade."""
    if path.is_dir():
        if any((path / ex.file).is_symlink() or (path / ex.file).exists() for ex in EXERCISES):
            return Location(path)
        notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        if len(notebooks) > 1:
            names = ", ".join(p.name for p in notebooks[:4])
            raise SubmissionError(
                f"{path} holds several notebooks ({names}): name the one to grade"
            )
        if notebooks:
            sid = printable(path.name or str(path))
            return Location(notebooks[0], notebook=True, root=path.resolve(), sid=sid)
        names = ", ".join(ex.file for ex in exercises[:3])
        raise SubmissionError(
            f"{path} holds none of the exercise files ({names}, ...) and no notebook (.ipynb)"
        )
    if path.suffix == ".ipynb":
        return Location(path, notebook=True)
    if path.exists():
        raise SubmissionError(f"{path} is neither a folder nor a notebook (.ipynb)")
    return Location(path)  # load_folder says that it does not exist
