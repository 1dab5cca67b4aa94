"""``grade batch --scheduler``: the same batch on a Dask cluster (here a
LocalCluster on loopback), with the same grades and the same isolation."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from conftest import SOLUTIONS, UNIT1, copy_units, run_grade

distributed = pytest.importorskip("distributed", reason="the optional extra 'dask'")

NAMES = [ex.name for ex in UNIT1]  # the class below hands in the first unit
HANG = "def scalar_grad(f, x):\n    while True:\n        pass\n"
KILLER = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as local:
        yield local.scheduler_address


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def test_batch_on_a_dask_cluster(cluster: str, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for name in ("a", "b", "c", "hang", "killer"):
        copy_units(SOLUTIONS, klass / name, (1,))
    (klass / "hang" / "ex01_scalar_grad.py").write_text(HANG)
    (klass / "killer" / "ex02_vector_grad.py").write_text(KILLER)
    (klass / "empty").mkdir()
    common = ["--timeout", "3", "--seed", "11", "--chunk-size", "2"]
    proc = run_grade(
        "batch", str(klass), "--out", str(tmp_path / "dask"), "--scheduler", cluster, *common,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(tmp_path / "dask" / "grades.csv")
    assert set(rows) == {"a", "b", "c", "hang", "killer", "empty"}
    assert list(rows["a"])[3:-1] == NAMES  # its columns: the first unit's, as before units
    for name in ("a", "b", "c"):
        assert rows[name]["total"] == "80", rows[name]
    assert rows["hang"]["scalar_grad"] == "0" and rows["hang"]["total"] == "70"
    assert rows["killer"]["vector_grad"] == "0" and rows["killer"]["total"] == "70"
    assert rows["empty"]["total"] == "0" and rows["empty"]["note"]
    # The same batch on this machine gives the same grades.
    proc = run_grade("batch", str(klass), "--out", str(tmp_path / "local"), *common, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert rows_of(tmp_path / "local" / "grades.csv") == rows


def test_an_unusable_scheduler_address_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copytree(SOLUTIONS, tmp_path / "class" / "a")
    proc = run_grade(
        "batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
        "--scheduler", "nosuchprotocol://127.0.0.1:1",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Dask scheduler" in proc.stderr and "Traceback" not in proc.stderr
