"""One run writes summary.json and timeseries.parquet atomically into its Hydra run dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pandas as pd
import pytest

from experiments import run as run_module
from model import load_config
from model.config import config_hash
from tests.conftest import days, world


def test_cli_run_writes_summary_and_timeseries(tmp_cwd):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "structure=canonical_pgg",
            "residents.synergy=4.5",
            *days(40),
            *world(20),
            "seed=3",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "participation_rate" in result.stdout
    (summary_path,) = tmp_cwd.glob("outputs/runs/*/*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["seed"] == 3
    assert summary["config"]["residents"]["synergy"] == 4.5
    assert summary["config_hash"] == config_hash(
        load_config(
            "structure=canonical_pgg",
            "residents.synergy=4.5",
            *days(40),
            *world(20),
        )
    )
    assert set(summary["versions"]) >= {"cogov", "mesa", "numpy", "python"}
    assert 0.0 <= summary["metrics"]["participation_rate"] <= 1.0
    series = pd.read_parquet(summary_path.parent / "timeseries.parquet")
    assert list(series["step"]) == list(range(41))
    # headline metrics are means over the days after the burn-in (none here)
    window = series["participation_rate"].iloc[1:].mean()
    assert summary["metrics"]["participation_rate"] == pytest.approx(window)
    run_dir = summary_path.parent
    assert sorted(p.name for p in run_dir.iterdir()) == [
        ".hydra",
        "cogov.log",
        "summary.json",
        "timeseries.parquet",
    ]


def test_outputs_get_the_usual_file_permissions(tmp_path):
    """Atomic writes go through a private temporary file; the result must still be readable
    like any file the user writes (0o666 minus the umask), e.g. by a group sharing results."""
    model = run_module.simulate(load_config(*world(10), *days(3)))
    previous = os.umask(0o022)
    try:
        run_module.write_outputs(model, tmp_path)
    finally:
        os.umask(previous)
    for name in ("summary.json", "timeseries.parquet"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    model = run_module.simulate(load_config(*world(10), *days(3)))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        run_module.write_outputs(model, tmp_path)
    assert list(tmp_path.iterdir()) == []
