"""Read the folder layout: one ``exNN_*.py`` file per exercise, without trusting it.

Only regular files inside the submission are read (a link that leads outside
is refused), sizes are capped, and text must be UTF-8. Nothing is executed here.
"""

from __future__ import annotations

from pathlib import Path

from grader.registry import Exercise
from grader.submission.model import MAX_FILE_BYTES, Source, Submission, SubmissionError
from grader.text_safety import printable


def load_folder(
    path: Path, exercises: tuple[Exercise, ...], *, sid: str | None = None
) -> Submission:
    """A folder holding ``exNN_*.py`` files."""
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if not path.is_dir():
        raise SubmissionError(f"{path} is not a folder")
    root = path.resolve()
    sub = Submission(sid or printable(path.name or str(path)), path)
    for ex in exercises:
        sub.sources[ex.file] = read_source(path / ex.file, root)
    if all(s.text is None and not s.problem for s in sub.sources.values()):
        names = ", ".join(ex.file for ex in exercises[:3])
        raise SubmissionError(f"{path} holds none of the exercise files ({names}, ...)")
    return sub


def read_source(file: Path, root: Path) -> Source:
    shown = str(file)
    if not file.is_symlink() and not file.exists():
        return Source(None, shown)
    try:
        real = file.resolve(strict=True)
    except (OSError, RuntimeError):
        return Source("", shown, "it is a broken link")
    if not real.is_relative_to(root):
        return Source("", shown, "it is a link to a file outside the submission")
    if not real.is_file():
        return Source("", shown, "it is not a regular file")
    if real.stat().st_size > MAX_FILE_BYTES:
        return Source("", shown, f"it is larger than {MAX_FILE_BYTES >> 10} KiB")
    data = real.read_bytes()[: MAX_FILE_BYTES + 1]
    return decode_source(data, shown)


def decode_source(data: bytes, shown: str) -> Source:
    if b"\x00" in data:
        return Source("", shown, "it contains NUL bytes, so it is not a Python text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Source("", shown, f"it is not UTF-8 text (byte {exc.start})")
    return Source(text, shown)
