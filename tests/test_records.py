"""The run record: one definition shared by the run that writes it and the store that reads it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from experiments import run
from experiments.records import TIMESERIES, read_summary
from model import load_config
from tests.conftest import days, world

TINY = [*world(6), *days(2)]


def test_the_record_module_loads_neither_the_model_nor_duckdb():
    code = "import json, sys, experiments.records; print(json.dumps(list(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    modules = set(json.loads(loaded.stdout))
    assert "experiments.records" in modules
    assert not {"model", "mesa", "duckdb", "numba"} & modules


def test_a_run_writes_a_record_the_store_accepts(tmp_path):
    summary = run.write_outputs(run.simulate(load_config(*TINY)), tmp_path / "run")
    assert read_summary(tmp_path / "run") == (summary, None)
    assert (tmp_path / "run" / TIMESERIES).is_file()


def test_a_run_whose_record_the_store_would_refuse_writes_nothing(tmp_path, monkeypatch):
    real = run.final_metrics
    monkeypatch.setattr(run, "final_metrics", lambda model: real(model) | {"seed": 1.0})
    with pytest.raises(ValueError, match="metric name 'seed' is reserved"):
        run.write_outputs(run.simulate(load_config(*TINY)), tmp_path / "run")
    assert not (tmp_path / "run").exists()
