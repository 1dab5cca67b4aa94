"""The files a batch leaves in its output folder.

* ``grades.csv``: ``student,total,max_total``, one column per exercise, then
  ``note`` (empty, or why a submission could not be graded), each cell one
  printable line (``grader.text_safety.printable``);
* ``reports/STUDENT.json`` (or ``.xml``, ``.txt``): each learner's report in the
  chosen ``--format`` (``json`` by default, the ``grade --format json`` shape);
* ``summary.txt`` and ``summary.json``: the class summary;
* ``pass_rates.png``: the per-exercise pass rates (when matplotlib is installed).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.classroom.batch import BatchResult
from grader.report import render
from grader.report import summary as summary_report
from grader.text_safety import MAX_CHARS, clean_data, printable

EXTENSIONS = {"json": ".json", "gradescope": ".json", "junit": ".xml", "text": ".txt"}


@dataclass
class Written:
    csv: Path
    reports: Path
    summary_text: str
    summary_json: Path
    plot: Path | None


def safe_name(student: str) -> str:
    """A file name for a student id (ids come from folder names, but stay careful):
    letters, digits and ``.@+-_``, at most 120 characters and 200 bytes in UTF-8."""
    name = re.sub(r"[^\w.@+-]", "_", student).strip(".")[:120] or "_"
    while len(name.encode("utf-8", "replace")) > 200:  # Chinese takes 3 bytes a character
        name = name[:-1]
    return name


def write_grades_csv(batch: BatchResult, path: Path) -> None:
    names = [ex.name for ex in batch.exercises]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["student", "total", "max_total", *names, "note"])
        for row in batch.rows:
            scores = {ex.name: ex.score for ex in row.result.exercises}
            out.writerow(
                [
                    printable(row.student),
                    f"{row.result.score:g}",
                    f"{row.result.max_score:g}",
                    *(f"{scores.get(name, 0.0):g}" for name in names),
                    printable(row.note, MAX_CHARS),
                ]
            )


def write_reports(batch: BatchResult, folder: Path, fmt: str, lang: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = EXTENSIONS.get(fmt, ".txt")
    used: set[str] = set()
    for row in batch.rows:
        name = safe_name(row.student)
        while name in used:
            name += "_"
        used.add(name)
        text = render(fmt, row.result, lang=lang, color=False)
        (folder / f"{name}{suffix}").write_text(text + "\n", encoding="utf-8")


def write_all(batch: BatchResult, out: Path, *, fmt: str, lang: str) -> Written:
    out.mkdir(parents=True, exist_ok=True)
    grades = out / "grades.csv"
    write_grades_csv(batch, grades)
    reports = out / "reports"
    write_reports(batch, reports, fmt, lang)
    summary = summary_report.summarize(
        [row.result for row in batch.rows],
        notes={row.student: row.note for row in batch.rows if row.note},
        seconds=batch.seconds,
    )
    text = summary_report.render(summary, lang)
    (out / "summary.txt").write_text(text + "\n", encoding="utf-8")
    summary_json = out / "summary.json"
    doc = {"seed": batch.seed, "runner": batch.runner, **summary_report.as_dict(summary, lang)}
    said = json.dumps(clean_data(doc, None), ensure_ascii=False, indent=1)
    summary_json.write_text(said, encoding="utf-8")
    plot: Path | None = out / "pass_rates.png"
    if not summary_report.plot_pass_rates(summary, plot, lang):
        plot = None
    return Written(grades, reports, text, summary_json, plot)
