"""The formats platforms read: Gradescope's results.json, JUnit XML, and the
Gradescope autograder bundle, each checked against the platform's documented
layout (encoded below), on real grading results."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest
from conftest import ALL_POINTS, SOLUTIONS, UNIT2, grade_folder, make_submission, run_grade

from grader.report import FORMATS, render
from grader.report.json_report import as_dict

# -- Gradescope ---------------------------------------------------------------------------
# The results.json fields of Gradescope's autograder specification. Everything is
# optional there; the issue asks for score, execution_time, output and, per test,
# name, score, max_score, status, output and visibility, so those are required here.
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "execution_time", "output", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "properties": {
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string", "minLength": 1},
                    "name_format": _FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": _FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": _VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}
# The fallback results.json of run_autograder has no tests and says why instead.
GRADESCOPE_FALLBACK_SCHEMA = {
    **GRADESCOPE_SCHEMA,
    "required": ["score", "output", "tests"],
}

WRONG_ACCUMULATE = """
def accumulated_grad(f, x, times):
    for _ in range(times):
        x.grad = None  # clears what was there: the gradients no longer add up
        f(x).sum().backward()
    return x.grad
"""
RAISES = """
def scalar_grad(f, x):
    return {}["missing"]
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory):
    """One real graded submission of the first unit: two exercises wrong, six right."""
    folder = make_submission(
        tmp_path_factory.mktemp("mixed"),
        {"ex05_accumulate.py": WRONG_ACCUMULATE, "ex01_scalar_grad.py": RAISES},
        units=(1,),
    )
    return grade_folder(folder)


def test_formats_are_registered() -> None:
    assert {"text", "json", "gradescope", "junit"} <= set(FORMATS)


def test_gradescope_matches_the_spec_and_the_grade(mixed) -> None:
    doc = json.loads(render("gradescope", mixed))
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    graded = as_dict(mixed)
    assert doc["score"] == graded["score"] < 80.0
    assert doc["score"] == sum(t["score"] for t in doc["tests"])
    assert [t["max_score"] for t in doc["tests"]] == [e["max_score"] for e in graded["exercises"]]
    by_name = {t["name"].split(":")[0]: t for t in doc["tests"]}
    assert by_name["accumulated_grad"]["status"] == "failed"
    assert by_name["scalar_grad"]["status"] == "failed"
    assert by_name["vector_grad"]["status"] == "passed"
    # What the learner reads on Gradescope is the grader's feedback, not a traceback.
    feedback = {e["name"]: e["feedback"] for e in graded["exercises"]}
    assert feedback["accumulated_grad"] in by_name["accumulated_grad"]["output"]
    assert "KeyError" in by_name["scalar_grad"]["output"]
    assert "Traceback" not in json.dumps(doc)


def test_gradescope_in_chinese(mixed) -> None:
    doc = json.loads(render("gradescope", mixed, lang="zh"))
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    failed = [t for t in doc["tests"] if t["status"] == "failed"]
    assert any("\u4e00" <= ch <= "\u9fff" for t in failed for ch in t["output"])


# -- JUnit --------------------------------------------------------------------------------
# The common JUnit XML layout (junit-4.xsd, as Ant, Maven Surefire and Jenkins use it):
# element -> (required attributes, optional attributes, allowed children).
JUNIT_LAYOUT: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": (
        set(),
        {"name", "time", "tests", "failures", "errors", "disabled", "skipped"},
        {"testsuite"},
    ),
    "testsuite": (
        {"name", "tests"},
        {
            "failures",
            "errors",
            "skipped",
            "disabled",
            "time",
            "timestamp",
            "hostname",
            "id",
            "package",
        },
        {"properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, set(), set()),
    "testcase": (
        {"name"},
        {"classname", "time", "assertions", "status"},
        {"skipped", "error", "failure", "system-out", "system-err"},
    ),
    "failure": (set(), {"message", "type"}, set()),
    "error": (set(), {"message", "type"}, set()),
    "skipped": (set(), {"message"}, set()),
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}
_INTEGER_ATTRS = {"tests", "failures", "errors", "skipped", "disabled"}


def check_junit_layout(element: ET.Element) -> None:
    required, optional, children = JUNIT_LAYOUT[element.tag]
    attrs = set(element.attrib)
    assert required <= attrs, (element.tag, required - attrs)
    assert attrs <= required | optional, (element.tag, attrs - required - optional)
    for name in attrs & _INTEGER_ATTRS:
        assert element.attrib[name].isdigit(), (element.tag, name, element.attrib[name])
    if "time" in attrs:
        assert float(element.attrib["time"]) >= 0
    for child in element:
        assert child.tag in children, (element.tag, child.tag)
        check_junit_layout(child)


def test_junit_matches_the_schema_and_the_grade(mixed) -> None:
    xml = render("junit", mixed)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    check_junit_layout(root)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    checks = [(ex.name, c) for ex in mixed.exercises for c in ex.checks]
    assert len(cases) == len(checks) == int(suite.get("tests"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == sum(1 for _, c in checks if not c.passed) == int(suite.get("failures"))
    assert int(suite.get("errors")) == 0
    assert {c.get("classname") for c in failed} == {"scalar_grad", "accumulated_grad"}
    for case in failed:
        failure = case.find("failure")
        assert failure.get("message") and failure.get("type")
        assert failure.text and "Traceback" not in failure.text
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["score"] == f"{mixed.score:g}" and props["max_score"] == "80"


def test_formats_from_the_command_line(tmp_path: Path) -> None:
    proc = run_grade(str(SOLUTIONS), "--format", "gradescope", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    assert doc["score"] == ALL_POINTS and all(t["status"] == "passed" for t in doc["tests"])
    assert len(doc["tests"]) == 16  # solutions/: every unit
    proc = run_grade(str(SOLUTIONS), "--format", "junit", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)
    check_junit_layout(root)
    assert root.find("testsuite").get("failures") == "0"
    assert len(root.iter("testcase").__next__().attrib) >= 2


# -- the Gradescope bundle -----------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    out = folder / "autograder.zip"
    proc = run_grade("gradescope-bundle", str(out), "--timeout", "4")
    assert proc.returncode == 0, proc.stderr
    extracted = folder / "source"
    with zipfile.ZipFile(out) as zf:
        for info in zf.infolist():
            zf.extract(info, extracted)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(extracted / info.filename, mode)
    return extracted


def test_bundle_layout(bundle: Path) -> None:
    for script in ("setup.sh", "run_autograder"):
        path = bundle / script
        assert path.read_text().startswith("#!"), script
        assert path.stat().st_mode & stat.S_IXUSR, script
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, script
    setup = (bundle / "setup.sh").read_text()
    assert "pip install ./autograd-grader" in setup and "torch==" in setup
    assert (bundle / "autograd-grader" / "pyproject.toml").exists()
    assert (bundle / "autograd-grader" / "grader" / "checks" / "pytest.ini").exists()
    assert not list(bundle.rglob("__pycache__"))


def test_bundled_source_installs(bundle: Path, tmp_path: Path) -> None:
    """The package in the zip builds and holds the same modules as this one."""
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(target), str(bundle / "autograd-grader")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    installed = {p.relative_to(target).as_posix() for p in (target / "grader").rglob("*.py")}
    source = {
        p.relative_to(bundle / "autograd-grader").as_posix()
        for p in (bundle / "autograd-grader" / "grader").rglob("*.py")
    }
    assert installed == source
    assert (target / "grader" / "checks" / "pytest.ini").exists()


def run_autograder(bundle: Path, root: Path) -> dict:
    """run_autograder as Gradescope runs it, with /autograder moved to ``root``."""
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "GRADE_COMMAND": str(Path(sys.executable).parent / "grade"),
        "GRADE_PYTHON": sys.executable,
    }
    proc = subprocess.run(
        [str(bundle / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_the_submission(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    # Learners often upload their folder rather than its files: here, the first unit's.
    make_submission(root / "submission", {"ex05_accumulate.py": WRONG_ACCUMULATE}, units=(1,))
    doc = run_autograder(bundle, root)
    assert len(doc["tests"]) == 8
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    failed = [t for t in doc["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["accumulated_grad: Gradients accumulate"]
    assert 70.0 <= doc["score"] == 80.0 - (failed[0]["max_score"] - failed[0]["score"]) < 80.0


def test_run_autograder_grades_the_units_uploaded(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    submission = root / "submission"
    submission.mkdir(parents=True)
    for ex in UNIT2[:2]:  # two files of the second unit, uploaded as files
        (submission / ex.file).write_text((SOLUTIONS / ex.file).read_text())
    doc = run_autograder(bundle, root)
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    assert [t["name"].split(":")[0] for t in doc["tests"]] == [ex.name for ex in UNIT2]
    assert doc["score"] == 20.0 and sum(t["max_score"] for t in doc["tests"]) == 80.0
    (submission / "ex01_scalar_grad.py").write_text((SOLUTIONS / "ex01_scalar_grad.py").read_text())
    both = run_autograder(bundle, root)  # a file of the first unit too: both units
    assert len(both["tests"]) == 16 and both["score"] == 30.0


def test_run_autograder_without_gradable_files(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "notes.txt").write_text("I could not do it")
    doc = run_autograder(bundle, root)
    jsonschema.validate(doc, GRADESCOPE_FALLBACK_SCHEMA)
    assert doc["score"] == 0.0
    assert "ex01_scalar_grad.py" in doc["output"]
