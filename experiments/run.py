"""One run: build the model from a config, simulate, and write its outputs atomically."""

from __future__ import annotations

import json
import math
import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from experiments.files import atomic_path
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


def final_metrics(model: CoGovModel) -> dict[str, float | None]:
    """The run's headline metrics (after ``metrics.burn_in``), with NaN and infinity as
    ``None``."""
    return {
        k: (None if v is None or not math.isfinite(v) else float(v))
        for k, v in model.headline().items()
    }


def summarise(model: CoGovModel) -> dict[str, Any]:
    """The run's record: resolved config, its hash, seed, versions and final metrics."""
    cfg = model.config_source
    return {
        "config": to_plain(cfg),
        "config_hash": config_hash(cfg),
        "seed": int(cfg.seed),
        "versions": versions(),
        "steps": int(model.steps),
        "metrics": final_metrics(model),
    }


def timeseries(model: CoGovModel) -> pd.DataFrame:
    """One row per recorded step (step 0 is the initial state)."""
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "step", range(len(frame)))
    return frame


def write_outputs(model: CoGovModel, out_dir: Path) -> dict[str, Any]:
    """Write ``timeseries.parquet`` then ``summary.json`` (the completion marker), each
    atomically. Returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(model)
    with atomic_path(out_dir / TIMESERIES) as temp:
        timeseries(model).to_parquet(temp, index=False)
    with atomic_path(out_dir / SUMMARY) as temp:
        temp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


HEADLINE = (
    "problem_resolution_rate",
    "callback_resolved_rate",
    "callback_satisfied_rate",
    "on_time_rate",
    "time_to_close_median",
    "time_to_close_mean",
    "abandoned_share",
    "participation_rate",
    "mean_trust",
    "mean_satisfaction",
    "cost_per_problem_solved",
    "problems_unsolved",
    "unspent",
    "n_social_orgs",
    "peak_backlog",
    "recovery_days",
)


def format_metrics(metrics: dict[str, float | None]) -> str:
    """A short two-column table of the headline metrics present."""
    shown = {k: metrics[k] for k in HEADLINE if k in metrics}
    width = max(map(len, shown), default=0)
    return "\n".join(
        f"{name:<{width}}  {'-' if value is None else format(value, '.4g')}"
        for name, value in shown.items()
    )
