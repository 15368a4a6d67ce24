"""Same config and seed give identical results, in one process and across processes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import build, days, small_game, world


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_same_seed_same_run(engine):
    one = build(*small_game(12), f"engine={engine}", "seed=11")
    two = build(*small_game(12), f"engine={engine}", "seed=11")
    one.run_for(20)
    two.run_for(20)
    pd.testing.assert_frame_equal(
        one.datacollector.get_model_vars_dataframe(), two.datacollector.get_model_vars_dataframe()
    )
    assert np.array_equal(one.population.participating, two.population.participating)


def test_different_seeds_differ():
    one = build(*small_game(12), "seed=1")
    two = build(*small_game(12), "seed=2")
    one.run_for(10)
    two.run_for(10)
    assert not np.array_equal(one.population.participating, two.population.participating)


def _cli(cwd, *overrides):
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *overrides, "hydra.run.dir=out"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )


def test_identical_outputs_across_processes(tmp_path):
    overrides = (*world(20), *days(30), "seed=5")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _cli(tmp_path / name, *overrides)
    summaries = [json.loads((tmp_path / n / "out" / "summary.json").read_text()) for n in "ab"]
    assert summaries[0]["metrics"] == summaries[1]["metrics"]
    assert summaries[0]["config_hash"] == summaries[1]["config_hash"]
    series = [pd.read_parquet(tmp_path / n / "out" / "timeseries.parquet") for n in "ab"]
    pd.testing.assert_frame_equal(series[0], series[1])
