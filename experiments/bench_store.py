"""Benchmark of the results store: collecting synthetic but realistic runs into DuckDB.

    uv run python -m experiments.bench_store     # 1,000 runs of 365 days, the model's metrics
    uv run python -m experiments.bench_store --runs 5000

The run directories look like the model's (a Hydra ``.hydra/`` folder, ``cogov.log``,
``timeseries.parquet``, then ``summary.json``) and are written before the clock starts.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.records import SUMMARY, TIMESERIES
from experiments.store import collect


@functools.cache
def model_metric_names() -> tuple[str, ...]:
    """The metric names the full model records each day (read off a tiny model)."""
    from model import CoGovModel, load_config

    tiny = load_config(
        "world.width=6",
        "world.height=6",
        "world.community_households=36",
        "world.grid_unit_households=36",
    )
    return tuple(CoGovModel(tiny).metrics)


STRUCTURES = ("canonical_pgg", "bureaucratic", "party_led", "grid", "sanshe", "decentralised")
VERSIONS = {"cogov": "0.1.0", "mesa": "3.5.1", "numpy": "2.3.0", "numba": "0.61.2"}


def synthetic_config(structure: str, synergy: float, seed: int, steps: int) -> dict[str, Any]:
    """A resolved config shaped like the model's."""
    return {
        "engine": "fast",
        "residents": {
            "cost": 1.0,
            "initial_participation": 0.5,
            "noise": 0.5,
            "reward": 0.0,
            "synergy": synergy,
            "synergy_multiplier": 1.0,
        },
        "seed": seed,
        "steps": steps,
        "structure": {"institutions": structure != "canonical_pgg", "name": structure},
        "world": {
            "community_households": 1500,
            "grid_unit_households": 400,
            "height": 100,
            "rewiring": 0.05,
            "torus": structure == "canonical_pgg",
            "width": 100,
        },
    }


def synthetic_hash(config: dict[str, Any]) -> str:
    """16 hex digits from everything but the seed, as the model hashes a config."""
    plain = {key: value for key, value in config.items() if key != "seed"}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def synthetic_series(rng: np.random.Generator, steps: int, metrics: Sequence[str]) -> pa.Table:
    """One row per step 0..steps: random walks in [0, 1]; ``workstation_queue`` is NaN for
    the first steps (a metric that can be missing)."""
    walks = np.clip(0.5 + np.cumsum(rng.normal(0, 0.02, (steps + 1, len(metrics))), 0), 0, 1)
    columns = {"step": pa.array(np.arange(steps + 1))}
    for index, name in enumerate(metrics):
        values = walks[:, index]
        if name == "workstation_queue":
            values = np.where(np.arange(steps + 1) < 3, np.nan, 30 * values)
        columns[name] = pa.array(values)
    return pa.table(columns)


def write_synthetic_run(
    run_dir: Path,
    config: dict[str, Any],
    *,
    metrics: Sequence[str] | None = None,
    rng: np.random.Generator | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Write a finished run (``extra`` goes into the summary, e.g. ``sweep``); return its
    summary. Final metrics are the last row; NaN becomes null."""
    metrics = model_metric_names() if metrics is None else metrics
    rng = rng if rng is not None else np.random.default_rng(config["seed"])
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    (run_dir / ".hydra" / "config.yaml").write_text(json.dumps(config))
    (run_dir / "cogov.log").write_text("")
    series = synthetic_series(rng, config["steps"], metrics)
    pq.write_table(series, run_dir / TIMESERIES)
    last = {name: series[name][-1].as_py() for name in metrics}
    summary = {
        "config": config,
        "config_hash": synthetic_hash(config),
        "seed": config["seed"],
        "steps": config["steps"],
        "versions": {**VERSIONS, "python": "3.12.1"},
        "metrics": {k: None if v is None or np.isnan(v) else v for k, v in last.items()},
        **extra,
    }
    (run_dir / SUMMARY).write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def write_synthetic_runs(folder: Path, n_runs: int, steps: int = 365) -> list[Path]:
    """``n_runs`` run directories ``folder/<i>`` over structures, synergies and seeds."""
    rng = np.random.default_rng(0)
    run_dirs = []
    for index in range(n_runs):
        structure = STRUCTURES[index % len(STRUCTURES)]
        synergy = 3.5 + 0.5 * (index // len(STRUCTURES) % 5)
        seed = index // (5 * len(STRUCTURES))
        config = synthetic_config(structure, synergy, seed, steps)
        run_dirs.append(folder / str(index))
        write_synthetic_run(run_dirs[-1], config, rng=rng)
    return run_dirs


def bench_collect(n_runs: int = 1000, steps: int = 365) -> dict[str, float]:
    """Seconds and runs per second to collect ``n_runs`` fresh runs into a new database,
    and seconds to collect them again (all skipped)."""
    with tempfile.TemporaryDirectory(prefix="cogov-bench-store-") as temp:
        folder, db = Path(temp) / "multirun", Path(temp) / "cogov.duckdb"
        write_synthetic_runs(folder, n_runs, steps)
        first = collect(folder, db)
        again = collect(folder, db)
        assert first.added == n_runs and again.skipped == n_runs
        return {
            "runs": n_runs,
            "steps": steps,
            "metrics": len(model_metric_names()),
            "seconds": first.seconds,
            "runs_per_s": n_runs / first.seconds,
            "recollect_seconds": again.seconds,
            "db_mb": db.stat().st_size / 1e6,
        }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="run directories to collect")
    parser.add_argument("--steps", type=int, default=365, help="days per run")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = bench_collect(args.runs, args.steps)
    print(
        f"collected {result['runs']} runs ({result['steps'] + 1} rows, {result['metrics']} "
        f"metrics each) in {result['seconds']:.2f} s = {result['runs_per_s']:.0f} runs/s; "
        f"again (all skipped) in {result['recollect_seconds']:.2f} s; "
        f"database {result['db_mb']:.1f} MB; total with setup {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
