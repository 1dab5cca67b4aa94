"""Run the installed ``grade`` as an ordinary user (``nobody``), from a root test run.

``nobody`` may not read a Python installed below /root (a pyenv, say), nor this
checkout when it lies there. So an environment of its own is built, outside
/root and owned by ``nobody``, as an ordinary user's virtual environment would
be: a ``venv`` of a system Python of the same version, whose site-packages gets
hard links to this environment's installed files of the grader's requirements
(no download, no copy; a copy where hard links are impossible), and the grader
itself installed (not editable) from a copy of this checkout. ``nobody`` owns the
venv, its site-packages folder and the installed grader package, so only the
sandbox (not file permissions) keeps learners' code from changing them.

Building it takes a few seconds; pytest builds it once per session, only when
a test needs it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "autograd-grader"
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
SOURCE_FOLDERS = ("grader", "exercises", "solutions")
PYTHON_ENV = "GRADER_TEST_PYTHON"  # an interpreter nobody can run, if none is found


@dataclass
class OrdinaryUser:
    name: str
    uid: int
    gid: int
    base: Path  # everything below belongs to the test session
    home: Path
    venv: Path
    site_packages: Path
    package: Path  # the installed grader package

    @property
    def grade(self) -> Path:
        return self.venv / "bin" / "grade"

    def command(self, args: list[str]) -> list[str]:
        return [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--",
            *args,
        ]

    def environment(self, **extra: str) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8", **extra}

    def run(
        self, args: list[str], *, cwd: Path, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(args),
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.environment(**env),
            timeout=timeout,
        )

    def give(self, path: Path) -> None:
        """Make ``path`` (and everything below it) this user's."""
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), self.uid, self.gid)
        os.lchown(path, self.uid, self.gid)


def build(base: Path, name: str = "nobody") -> OrdinaryUser:
    """The environment in ``base`` (which must be an empty folder of root's)."""
    entry = pwd.getpwnam(name)
    user = OrdinaryUser(
        name=name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        base=base,
        home=base / "home",
        venv=base / "venv",
        site_packages=base / "venv" / _relative_site_packages(),
        package=base / "venv" / _relative_site_packages() / "grader",
    )
    base.chmod(0o755)
    user.home.mkdir(mode=0o700)
    user.give(user.home)
    python = find_python(user)
    subprocess.run([python, "-m", "venv", "--without-pip", str(user.venv)], check=True)
    user.give(user.venv)
    for dist in requirements(DISTRIBUTION, extra=["setuptools", "pip"]):
        _link_files(dist, user.site_packages)
    source = base / "source"
    _copy_source(source)
    subprocess.run(
        [
            str(user.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=base,
        env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
    )
    shutil.rmtree(source)
    for made in [user.package, *user.site_packages.glob("autograd_grader-*.dist-info")]:
        user.give(made)
    user.give(user.grade)
    return user


def find_python(user: OrdinaryUser) -> str:
    """A Python of this version that ``user`` can run: this one, a system one, or
    ``$GRADER_TEST_PYTHON``."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [
        os.environ.get(PYTHON_ENV, ""),
        os.path.realpath(sys.executable),
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
    ]
    for candidate in filter(None, candidates):
        if not os.path.exists(candidate):
            continue
        # An interpreter that cannot read its own installation may still start,
        # with another Python's standard library: it must sit in its own prefix.
        check = (
            "import os, sys; "
            f"assert sys.version_info[:2] == ({version.replace('.', ', ')}); "
            "assert os.path.realpath(sys.executable).startswith("
            "os.path.realpath(sys.base_prefix) + os.sep)"
        )
        proc = subprocess.run(
            user.command([candidate, "-c", check]),
            capture_output=True,
            env=user.environment(),
            cwd="/",
        )
        if proc.returncode == 0:
            return candidate
    raise RuntimeError(
        f"no Python {version} that {user.name} can run: install python{version} "
        f"(e.g. apt-get install python{version}-venv) or set {PYTHON_ENV}"
    )


def requirements(name: str, extra: list[str]) -> list[metadata.Distribution]:
    """``name``'s installed distribution requirements, transitively (no extras),
    plus ``extra``; not ``name`` itself. Where ``name`` is not installed (a
    checkout on PYTHONPATH, as scripts/gpu-check.sh runs it), pyproject.toml's
    dependencies."""
    found: dict[str, metadata.Distribution] = {}
    try:
        metadata.distribution(name)
        todo = [name, *extra]
    except metadata.PackageNotFoundError:
        todo = [*_declared_dependencies(), *extra]
    while todo:
        wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", wanted).lower()
        if key in found:
            continue
        try:
            dist = metadata.distribution(wanted)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    found.pop(re.sub(r"[-_.]+", "-", name).lower(), None)
    return list(found.values())


def _declared_dependencies() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    return [Requirement(r).name for r in re.findall(r'"([^"]+)"', block.group(1) if block else "")]


def base_folder() -> Path:
    """A new folder for the environment, on the file system of this environment's
    site-packages where possible (hard links cannot cross file systems)."""
    import tempfile

    purelib = sysconfig.get_paths()["purelib"]
    device = os.stat(purelib).st_dev
    for parent in (tempfile.gettempdir(), "/var/tmp", "/var/lib", "/srv", "/opt"):
        if os.path.isdir(parent) and os.stat(parent).st_dev == device:
            return Path(tempfile.mkdtemp(prefix="grader-nobody-", dir=parent))
    return Path(tempfile.mkdtemp(prefix="grader-nobody-"))


def _relative_site_packages() -> Path:
    purelib = Path(sysconfig.get_paths()["purelib"])
    return purelib.relative_to(sys.prefix)


def _link_files(dist: metadata.Distribution, target: Path) -> None:
    """Hard links (copies across file systems) to a distribution's files inside
    site-packages; scripts and other files outside it are left out."""
    origin = Path(str(dist.locate_file(""))).resolve()
    for file in dist.files or []:
        if ".." in file.parts or file.parts[0] == "__pycache__":
            continue
        source = origin / file
        if not source.is_file():
            continue
        destination = target / file
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            continue
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)


def _copy_source(target: Path) -> None:
    target.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_bundled", ".grade-progress.json")
    for name in SOURCE_FOLDERS:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
