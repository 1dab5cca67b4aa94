"""A ready Gradescope autograder: a zip with ``setup.sh``, ``run_autograder`` and
this package's source.

Gradescope unpacks the zip into /autograder/source and runs ``setup.sh`` once
when it builds the image; ``run_autograder`` then runs for every submission and
must leave /autograder/results/results.json. Ours grades /autograder/submission
with ``grade --format gradescope`` (the same sandbox and checks as everywhere),
and when nothing gradable was uploaded it still writes a results.json that
tells the learner what to upload.

``AUTOGRADER_ROOT``, ``GRADE_COMMAND`` and ``GRADE_PYTHON`` let the same script
run outside Gradescope's image (the tests use them).
"""

from __future__ import annotations

import importlib.metadata
import io
import shlex
import stat
import zipfile
from pathlib import Path

import grader
from grader.messages import text
from grader.registry import EXERCISES

DIST = "autograd-grader"
SOURCE = "autograd-grader"  # folder of the package source inside the zip
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # CPU wheels: no multi-GB CUDA build


class BundleError(Exception):
    """The bundle cannot be written (for instance, the package source is missing)."""


def torch_requirement_here() -> str:
    """``torch==X.Y.Z`` for the torch installed here, without its local tag (+cpu)."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "torch>=2.2"
    return f"torch=={version.split('+', 1)[0]}"


def setup_script(torch_requirement: str) -> str:
    torch_req = shlex.quote(torch_requirement)
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install {torch_req} --index-url {TORCH_INDEX}
/autograder/venv/bin/pip install ./{SOURCE}
/autograder/venv/bin/grade --version
"""


def run_script(*, timeout: float, lang: str) -> str:
    names = ", ".join(ex.file for ex in EXERCISES[:2])
    fallback = text("gradescope.not_graded", lang, files=names)
    return f"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it into results/results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
GRADE="${{GRADE_COMMAND:-$ROOT/venv/bin/grade}}"
PYTHON="${{GRADE_PYTHON:-$ROOT/venv/bin/python}}"
SUB="$ROOT/submission"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
# Work uploaded inside a folder: grade the folder that holds it.
if ! compgen -G "$SUB/ex[0-9][0-9]_*.py" >/dev/null && ! compgen -G "$SUB/*.ipynb" >/dev/null; then
    found=$(find "$SUB" -type f \\( -name 'ex[0-9][0-9]_*.py' -o -name '*.ipynb' \\) \\
        -not -path '*/.*' 2>/dev/null | sort | head -n 1)
    if [ -n "$found" ]; then SUB=$(dirname "$found"); fi
fi
if "$GRADE" check "$SUB" --format gradescope --lang {lang} --timeout {timeout:g} \\
        >"$RESULTS/results.json.part" 2>"$RESULTS/grade-errors.txt"; then
    mv "$RESULTS/results.json.part" "$RESULTS/results.json"
else
    "$PYTHON" - "$RESULTS/grade-errors.txt" "$RESULTS/results.json" {shlex.quote(fallback)} <<'PY'
import json
import sys

lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().strip().splitlines()
why = lines[-1].removeprefix("Error: ") if lines else "no result"
result = {{"score": 0.0, "output": sys.argv[3] + "\\n(" + why + ")", "visibility": "visible",
          "stdout_visibility": "hidden", "tests": []}}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(result, fh, ensure_ascii=False)
PY
fi
cat "$RESULTS/grade-errors.txt" 2>/dev/null
exit 0
"""


def package_files() -> dict[str, bytes]:
    """This package's files (``grader/...``), as installed here, without caches."""
    root = Path(grader.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        files[f"grader/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    if "grader/__init__.py" not in files:
        raise BundleError(f"the grader package source was not found in {root}")
    return files


def pyproject(package: dict[str, bytes]) -> str:
    """A build file for the bundled source, from this installation's metadata."""
    try:
        meta = importlib.metadata.metadata(DIST)
        version = meta["Version"]
        requires = [r for r in (importlib.metadata.requires(DIST) or []) if "extra ==" not in r]
        python = meta.get("Requires-Python") or ">=3.10"
    except importlib.metadata.PackageNotFoundError as exc:
        raise BundleError(f"{DIST} is not installed here: pip install -e .") from exc
    data = sorted(name.removeprefix("grader/") for name in package if not name.endswith(".py"))
    deps = "".join(f'    "{r}",\n' for r in requires)
    files = "".join(f'    "{d}",\n' for d in data)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{DIST}"
version = "{version}"
requires-python = "{python}"
dependencies = [
{deps}]

[project.scripts]
grade = "grader.cli.main:run"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = [
{files}]
"""


def write_bundle(
    out: Path, *, torch_requirement: str | None = None, timeout: float = 5.0, lang: str = "en"
) -> list[str]:
    """Write the zip; returns the names it holds."""
    package = package_files()
    entries: list[tuple[str, bytes, bool]] = [
        ("setup.sh", setup_script(torch_requirement or torch_requirement_here()).encode(), True),
        ("run_autograder", run_script(timeout=timeout, lang=lang).encode(), True),
        (f"{SOURCE}/pyproject.toml", pyproject(package).encode(), False),
    ]
    entries += [(f"{SOURCE}/{name}", data, False) for name, data in package.items()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, executable in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            mode = 0o755 if executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return [name for name, _, _ in entries]
