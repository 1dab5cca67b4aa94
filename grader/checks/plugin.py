"""The pytest plugin that runs the hidden checks and gathers their verdicts.

It parametrizes every check over the exercise runs it is given (one per
submission), and turns each report into a ``CheckVerdict``. Only a check that
ran to the end without failing counts as passed; an error inside a check is the
grader's fault and is reported as such, never as a pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.checks.run import CheckFailed, ExerciseRun
from grader.messages import Feedback, check_name, message
from grader.registry import EXERCISES


@dataclass
class CheckVerdict:
    submission: str
    exercise: str
    check: str
    weight: float
    passed: bool
    feedback: Feedback | None


_BY_STEM = {ex.stem: ex for ex in EXERCISES}


class GradingPlugin:
    def __init__(self, runs: list[ExerciseRun]) -> None:
        self._runs: dict[str, list[ExerciseRun]] = {}
        for run in runs:
            self._runs.setdefault(run.exercise.name, []).append(run)
        self.verdicts: list[CheckVerdict] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "weight(points): share of the exercise's points")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "run" not in metafunc.fixturenames:
            return
        exercise = _BY_STEM[Path(str(metafunc.module.__file__)).stem]
        runs = self._runs.get(exercise.name, [])
        metafunc.parametrize("run", runs, ids=[r.submission for r in runs])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            run: ExerciseRun = item.callspec.params["run"]  # type: ignore[attr-defined]
            marker = item.get_closest_marker("weight")
            feedback = None
            if not report.passed:
                exc = call.excinfo.value if call.excinfo else None
                if isinstance(exc, CheckFailed):
                    feedback = exc.feedback
                else:
                    check = item.name.split("[")[0].removeprefix("test_")
                    feedback = message("internal.check_error", check=check_name(check))
            self.verdicts.append(
                CheckVerdict(
                    submission=run.submission,
                    exercise=run.exercise.name,
                    check=getattr(item, "originalname", item.name).removeprefix("test_"),
                    weight=float(marker.args[0]) if marker else 1.0,
                    passed=bool(report.passed),
                    feedback=feedback,
                )
            )


def run_checks(runs: list[ExerciseRun]) -> list[CheckVerdict]:
    """Run the hidden checks of the exercises in ``runs`` in this process."""
    if not runs:
        return []
    plugin = GradingPlugin(runs)
    modules = sorted({run.exercise for run in runs}, key=lambda ex: ex.order)
    here = Path(__file__).parent
    args = [str(here / ex.file) for ex in modules]
    args += [
        "-p", "no:cacheprovider",
        "-p", "no:terminal",
        "-p", "no:warnings",
        "-p", "no:stepwise",
        # Not needed by the checks, and costly: logging adds a handler to every logger
        # around each test; the other two run gc.collect() when the session ends.
        "-p", "no:logging",
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        # Never used by the checks; each registered plugin costs time at every session
        # start (grade watch starts one per save), together about half of it.
        *(arg for name in _UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
        "--assert=plain",  # the checks raise CheckFailed; nothing to rewrite
        "--noconftest",
        "-c", str(here / "pytest.ini"),
        "--rootdir", str(here),
    ]  # fmt: skip
    saved = {k: os.environ.pop(k) for k in _PYTEST_ENV if k in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        pytest.main(args, plugins=[plugin])
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)
    return plugin.verdicts


_UNUSED_PLUGINS = (
    "capture", "debugging", "doctest", "faulthandler", "junitxml", "legacypath",
    "monkeypatch", "nose", "pastebin", "python_path", "recwarn", "setuponly",
    "setupplan", "skipping", "subtests", "tmpdir", "unittest",
)  # fmt: skip

# Environment variables that would let the caller's setup change how checks run.
_PYTEST_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
