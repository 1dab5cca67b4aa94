"""Build hook: ship the exercise stubs and reference solutions inside the package.

The top-level ``exercises/`` and ``solutions/`` folders are the only copies in
the repository. When a wheel is built they are copied to ``grader/_bundled/``
in the build, so ``grade init`` works from a plain (non-editable) install.
Editable installs read the top-level folders directly (grader/study/bundle.py).
All other metadata lives in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("exercises", "solutions")


class build_py_with_exercises(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for kind in BUNDLED:
            source = ROOT / kind
            target = Path(self.build_lib) / "grader" / "_bundled" / kind
            target.mkdir(parents=True, exist_ok=True)
            for file in sorted(source.glob("ex[0-9][0-9]_*.py")):
                self.copy_file(str(file), str(target / file.name))


setup(cmdclass={"build_py": build_py_with_exercises})
