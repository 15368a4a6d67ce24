"""One run: build the model from a config, simulate, and write its outputs atomically."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from model import CoGovModel
from model.config import config_hash, to_plain

SUMMARY = "summary.json"
TIMESERIES = "timeseries.parquet"


def simulate(cfg: DictConfig) -> CoGovModel:
    """Build the model and run it for ``cfg.steps`` days."""
    model = CoGovModel(cfg)
    model.run_for(cfg.steps)
    return model


def versions() -> dict[str, str]:
    """Versions of everything that can change a result."""
    packages = {name: version(name) for name in ("cogov", "mesa", "numpy", "numba")}
    return {**packages, "python": platform.python_version()}


def summarise(model: CoGovModel) -> dict[str, Any]:
    """The run's record: resolved config, its hash, seed, versions and final metrics."""
    cfg = model.config
    return {
        "config": to_plain(cfg),
        "config_hash": config_hash(cfg),
        "seed": int(cfg.seed),
        "versions": versions(),
        "steps": int(model.steps),
        "metrics": dict(model.metrics),
    }


def timeseries(model: CoGovModel) -> pd.DataFrame:
    """One row per recorded step (step 0 is the initial state)."""
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "step", range(len(frame)))
    return frame


@contextmanager
def _atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temp)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def write_outputs(model: CoGovModel, out_dir: Path) -> dict[str, Any]:
    """Write ``timeseries.parquet`` then ``summary.json`` (the completion marker), each
    atomically. Returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(model)
    with _atomic_path(out_dir / TIMESERIES) as temp:
        timeseries(model).to_parquet(temp, index=False)
    with _atomic_path(out_dir / SUMMARY) as temp:
        temp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def format_metrics(metrics: dict[str, float]) -> str:
    """A short two-column table of final metrics."""
    width = max(map(len, metrics), default=0)
    return "\n".join(f"{name:<{width}}  {value:.4g}" for name, value in metrics.items())
