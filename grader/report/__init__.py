"""Report formats: pure functions from results to text. Nothing here grades.

``FORMATS`` lists the names ``--format`` accepts; ``render`` dispatches to the
module of each format, imported only when used.
"""

from __future__ import annotations

import importlib

from grader.results import SubmissionResult

# format name -> module in this package with ``render(result, lang, color) -> str``
_MODULES = {"text": "text", "json": "json_report", "gradescope": "gradescope", "junit": "junit"}
FORMATS = tuple(_MODULES)


def render(fmt: str, result: SubmissionResult, *, lang: str = "en", color: bool = False) -> str:
    module = importlib.import_module(f"grader.report.{_MODULES[fmt]}")
    return module.render(result, lang=lang, color=color)
