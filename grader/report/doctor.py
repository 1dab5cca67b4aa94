"""``grade doctor``'s report: which protections hold, in the reader's language."""

from __future__ import annotations

import json

import click

from grader.messages import text
from grader.runner.doctor import Check, Diagnosis

MARKS = {True: "✓", False: "✗", None: "–"}
_WIDTH = 15  # the labels' column


def render(diagnosis: Diagnosis, lang: str = "en", color: bool = False, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(diagnosis.as_dict(), ensure_ascii=False)
    who = (
        text("doctor.user.root", lang)
        if diagnosis.runs_as == "root"
        else text("doctor.user.ordinary", lang, name=diagnosis.user, uid=diagnosis.uid)
    )
    lines = [text("doctor.title", lang, machine=diagnosis.machine, user=who), ""]
    sections = (
        ("doctor.section.isolation", diagnosis.isolation_checks),
        ("doctor.section.limits", diagnosis.limits),
        ("doctor.section.cuda", [diagnosis.cuda]),
    )
    for heading, checks in sections:
        lines.append(text(heading, lang))
        lines.extend(_line(check, lang, color, who) for check in checks)
    missing = diagnosis.isolation.missing()
    lines.append("")
    if missing:
        lines.append(text("doctor.summary.missing", lang, count=len(missing)))
    else:
        lines.append(text("doctor.summary.complete", lang))
    return "\n".join(lines)


def _line(check: Check, lang: str, color: bool, who: str) -> str:
    state = {True: "holds", False: "missing", None: "na"}[check.holds]
    label = text(f"doctor.label.{check.key}", lang)
    said = text(f"doctor.{check.key}.{state}", lang, who=who, **check.params)
    mark = MARKS[check.holds]
    if color and check.holds is not None:
        mark = click.style(mark, fg="green" if check.holds else "red", bold=True)
    line = f"  {mark} {_pad(label)} {said}"
    if check.holds is False and check.why:
        line += "\n" + " " * (5 + _WIDTH) + text("doctor.why", lang, why=check.why)
    return line


def _pad(label: str) -> str:
    """Pad to the column, counting a Chinese character as two columns."""
    width = sum(2 if ord(c) > 0x2E80 else 1 for c in label)
    return label + " " * max(1, _WIDTH - width)
