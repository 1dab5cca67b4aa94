"""The installed ``grade`` command: JSON contract, exit codes, usage errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner
from conftest import ALL_POINTS, EXERCISES, SOLUTIONS, grade_command, grade_json, run_grade

from grader import registry
from grader.cli.main import main

CONTRACT_KEYS = {"name", "score", "max_score", "passed", "feedback"}


def test_json_report_contract_on_solutions() -> None:
    report = grade_json(str(SOLUTIONS))  # both units' files: every exercise
    assert set(report) >= {"score", "max_score", "exercises"}
    assert report["score"] == report["max_score"] == ALL_POINTS == 160.0
    assert [e["name"] for e in report["exercises"]] == [ex.name for ex in registry.EXERCISES]
    for entry in report["exercises"]:
        assert CONTRACT_KEYS <= set(entry)
        assert isinstance(entry["score"], float) and isinstance(entry["max_score"], float)
        assert entry["passed"] is True
        assert {c["name"] for c in entry["checks"]} == {"values", "type", "side_effects"}


def test_stubs_score_zero_with_a_line_each_and_exit_zero() -> None:
    proc = run_grade(str(EXERCISES))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for ex in registry.EXERCISES:
        line = next(line for line in lines if ex.name in line and "/10" in line)
        assert line.startswith("✗") and " 0/10" in line
    assert "Total: 0/160" in proc.stdout  # every unit's stub
    assert "seed" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no colour when piped


def test_seed_reproduces_the_same_report() -> None:
    a = grade_json(str(EXERCISES), "--seed", "77")
    b = grade_json(str(EXERCISES), "--seed", "77")
    assert a["seed"] == b["seed"] == 77
    assert a["exercises"] == b["exercises"]


def test_only_grades_the_named_exercises() -> None:
    report = grade_json(str(SOLUTIONS), "--only", "detach_alias", "--only", "scalar_grad")
    assert [e["name"] for e in report["exercises"]] == ["scalar_grad", "detach_alias"]
    assert report["max_score"] == 20.0


def test_missing_file_costs_only_its_exercise(tmp_path: Path) -> None:
    (tmp_path / "ex08_detach.py").write_text((SOLUTIONS / "ex08_detach.py").read_text())
    report = grade_json(str(tmp_path))  # a file of unit 1: unit 1, its other seven missing
    assert report["score"] == 10.0 and report["max_score"] == 80.0
    first = report["exercises"][0]
    assert not first["passed"] and "ex01_scalar_grad.py" in first["feedback"]


def test_usage_errors_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    cases = [
        [str(tmp_path / "nope")],
        [str(tmp_path)],  # holds none of the exercise files
        [str(SOLUTIONS), "--only", "no_such_exercise"],
        [str(SOLUTIONS), "--format", "yaml"],
        [str(SOLUTIONS), "--unit", "3"],
    ]
    for args in cases:
        proc = run_grade(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("Error: ") and "--help" in proc.stderr


def test_cuda_without_cuda_is_a_usage_error(tmp_path: Path) -> None:
    """grade, grade batch and grade nbgrader autograde all take --device."""
    import torch

    if torch.cuda.is_available():
        return  # covered by scripts/gpu-check.sh on a GPU machine
    klass = tmp_path / "class"
    shutil.copytree(SOLUTIONS, klass / "ada")
    (tmp_path / "course").mkdir()
    for args in (
        (str(SOLUTIONS), "--device", "cuda"),
        ("batch", str(klass), "--out", str(tmp_path / "out"), "--device", "cuda"),
        ("nbgrader", "autograde", str(tmp_path / "course"), "--device", "cuda"),
    ):
        proc = run_grade(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "CUDA" in proc.stderr and "Traceback" not in proc.stderr, args
        assert len(proc.stderr.strip().splitlines()) == 1, args
    assert not (tmp_path / "out").exists()  # nothing written before the usage error


def test_batch_and_autograde_accept_device_auto_and_cpu(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    shutil.copytree(SOLUTIONS, klass / "ada")
    for device in ("cpu", "auto"):
        out = tmp_path / f"out-{device}"
        proc = run_grade("batch", str(klass), "--out", str(out), "--device", device, "--seed", "2")
        assert proc.returncode == 0, proc.stderr
        (row,) = (out / "grades.csv").read_text().splitlines()[1:]
        student, total, max_total = row.split(",")[:3]
        assert student == "ada" and total == max_total and float(total) > 0


def test_cli_runner_json_is_the_only_stdout() -> None:
    result = CliRunner().invoke(main, [str(SOLUTIONS), "--format", "json", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["score"] == ALL_POINTS


def _plain_grade(*args: str, cwd: Path, env_lang: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = env_lang
    return subprocess.run(
        [grade_command(), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_plain_grade_without_an_exercises_folder_suggests_grade_init(tmp_path: Path) -> None:
    english = "Error: There is no exercises/ folder here: start with grade init"
    chinese = "错误：这里没有 exercises/ 文件夹：先运行 grade init"
    runs = [
        ((), "en_US.UTF-8", english),
        ((), "zh_CN.UTF-8", chinese),
        (("--lang", "zh"), "en_US.UTF-8", chinese),
        (("check",), "en_US.UTF-8", english),
    ]
    for args, env_lang, start in runs:
        proc = _plain_grade(*args, cwd=tmp_path, env_lang=env_lang)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith(start) and "grade init" in proc.stderr
    named = _plain_grade(str(tmp_path / "exercises"), cwd=tmp_path, env_lang="en_US.UTF-8")
    assert named.returncode == 2 and "does not exist" in named.stderr  # a path given: as before
    shutil.copytree(EXERCISES, tmp_path / "exercises")
    graded = _plain_grade(cwd=tmp_path, env_lang="en_US.UTF-8")
    assert graded.returncode == 0, graded.stderr
    assert "Total: 0/" in graded.stdout
