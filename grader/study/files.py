"""Fresh copies of the stubs: a whole folder (``grade init``) or one file (``grade reset``)."""

from __future__ import annotations

from pathlib import Path

from grader.registry import EXERCISES, Exercise
from grader.study import bundle

README = "README.md"


class WouldOverwrite(Exception):
    """Files already exist where fresh copies would go."""

    def __init__(self, files: list[str]) -> None:
        super().__init__(", ".join(files))
        self.files = files


def init_folder(
    target: Path,
    *,
    readme: str,
    force: bool = False,
    exercises: tuple[Exercise, ...] = EXERCISES,
) -> list[Path]:
    """Write the stubs of ``exercises`` (all by default) and a README into ``target``;
    returns the files written. A README already there is kept (unless ``force``), so
    a unit can be added beside another: only an exercise file stops the writing."""
    planned = {ex.file: bundle.stub_text(ex) for ex in exercises}
    if not force:
        taken = [name for name in planned if (target / name).exists()]
        if taken:
            raise WouldOverwrite(taken)
    if force or not (target / README).exists():
        planned[README] = readme
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in planned.items():
        path = target / name
        if path.is_symlink():
            path.unlink()  # never write through a link to somewhere else
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def reset_exercise(folder: Path, ex: Exercise) -> Path | None:
    """Put the stub of ``ex`` back; the learner's version is kept beside it.

    Returns where the learner's version was saved (None when there was nothing
    to save: no file, or the file was the stub already)."""
    path = folder / ex.file
    stub = bundle.stub_text(ex)
    saved = None
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") != stub:
        saved = _free_name(folder, ex.file + ".bak")
        path.rename(saved)
    elif path.is_symlink():
        path.unlink()
    path.write_text(stub, encoding="utf-8")
    return saved


def _free_name(folder: Path, name: str) -> Path:
    candidate, n = folder / name, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = folder / f"{name}{n}"
    return candidate
