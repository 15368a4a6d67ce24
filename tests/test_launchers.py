"""Hydra launchers end to end (slow): each sweep runs, writes every run and is stored."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from experiments.store import connect
from tests.conftest import days, world

TINY = [*world(16, communities=4), *days(12)]
pytestmark = pytest.mark.slow


def sweep(tmp_path, launcher: str, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "-m",
        "seed=0,1,2,3",
        *TINY,
        f"hydra/launcher={launcher}",
        *extra,
    ]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)


def assert_four_runs_stored(tmp_path, result):
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep_dir,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    assert len(list(sweep_dir.glob("*/summary.json"))) == 4
    with connect(tmp_path / "results" / "cogov.duckdb") as con:
        seeds = con.execute("SELECT seed FROM runs ORDER BY seed").fetchall()
    assert seeds == [(0,), (1,), (2,), (3,)]


def test_joblib_runs_a_sweep_in_parallel(tmp_path):
    assert_four_runs_stored(tmp_path, sweep(tmp_path, "joblib", "hydra.launcher.n_jobs=2"))


def test_submitit_local_runs_a_sweep(tmp_path):
    assert_four_runs_stored(
        tmp_path, sweep(tmp_path, "submitit_local", "hydra.launcher.timeout_min=10")
    )


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the Ray launcher is optional: uv sync --extra ray",
)
def test_a_local_ray_cluster_runs_a_sweep(tmp_path):
    assert_four_runs_stored(tmp_path, sweep(tmp_path, "ray"))


def test_same_sweep_gives_the_same_results_on_every_launcher(tmp_path):
    for launcher in ("basic", "joblib"):
        (tmp_path / launcher).mkdir()
        assert sweep(tmp_path / launcher, launcher).returncode == 0
    frames = []
    for launcher in ("basic", "joblib"):
        with connect(tmp_path / launcher / "results" / "cogov.duckdb") as con:
            frames.append(
                con.execute(
                    "SELECT run_id, participation_rate, backlog, mean_trust FROM runs "
                    "ORDER BY run_id"
                ).df()
            )
    assert frames[0].equals(frames[1])
