"""Experiments: a sweep preset turned into runs, run in parallel, stored, summarised.

An experiment (``configs/experiment/NAME.yaml``) names the structures to compare, the
parameter points (a grid, or a Sobol/Morris sample over lever ranges) and the seeds. Every
run is an ordinary single run with its own config; its directory is
``<results.runs_dir>/<config_hash>-<seed>``, written atomically, and it is collected into the
results database. Runs whose config hash and seed are already stored are skipped, so a sweep
that was killed finishes the missing runs when started again.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from scipy import stats

from model.config import config_hash, load_config, validate
from model.errors import ConfigError, user_errors
from model.schema import Method

log = logging.getLogger(__name__)

COLLECT_EVERY = 20
"""Finished runs stored per database write while an experiment runs."""


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: its full config, its identity and where it stands."""

    config: DictConfig = field(compare=False, repr=False)
    config_hash: str
    seed: int
    structure: str
    point: tuple[tuple[str, Any], ...]  # the experiment's values for this run, sorted by key

    @property
    def run_id(self) -> str:
        return f"{self.config_hash}-{self.seed}"


def _points(experiment_config: DictConfig, seed: int) -> list[dict[str, Any]]:
    """The parameter points: every grid combination, a SALib sample over the levers, or draws
    from a stored calibration's posterior."""
    experiment = experiment_config.experiment
    method = Method(experiment.method)
    if method in (Method.abc, Method.posterior):  # the calibration's posterior predictive
        from experiments.calibration import posterior_draws

        return posterior_draws(experiment_config, experiment.draws, seed)
    if method is Method.grid:
        grid = OmegaConf.to_container(experiment.grid)
        keys = sorted(grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*(grid[k] for k in keys))
        ]
    problem = salib_problem(experiment)
    sample = _salib_sample(method, problem, experiment.samples, seed)
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in sample]
    if method is Method.lhs and experiment.calibration:  # calibrated keys from the posterior
        from experiments.calibration import posterior_draws

        draws = posterior_draws(experiment_config, len(points), seed)
        points = [draw | point for draw, point in zip(draws, points, strict=True)]
    return points


def salib_problem(experiment: DictConfig) -> dict[str, Any]:
    levers = OmegaConf.to_container(experiment.levers)
    names = sorted(levers)
    return {"num_vars": len(names), "names": names, "bounds": [levers[n] for n in names]}


def _salib_sample(method: Method, problem: dict, samples: int, seed: int) -> np.ndarray:
    if method is Method.lhs:
        from SALib.sample import latin

        return latin.sample(problem, samples, seed=seed)
    if method is Method.sobol:
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, samples, seed=seed)


NOT_RUN_KEYS = ("experiment", "results", "lang", "hydra", "structure", "seed")
"""Keys of a command line that do not shape an experiment's runs: the experiment's own axes
(structure, seed) and how results are organised and shown."""


def run_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that apply to every run of an experiment (e.g. world.width=50)."""
    return [
        o
        for o in overrides
        if o.lstrip("+~").split("=")[0].split(".")[0].split("/")[0] not in NOT_RUN_KEYS
    ]


def command_line_overrides() -> list[str]:
    """The overrides of the running Hydra app (none outside it)."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def plan(cfg: DictConfig, extra_overrides: Iterable[str] = ()) -> list[RunSpec]:
    """Every run the experiment asks for, in a fixed order."""
    experiment = cfg.experiment
    if (
        Method(experiment.method) in (Method.sobol, Method.morris)
        and len(experiment.structures) != 1
    ):
        raise ConfigError(
            "experiment.structures",
            "a sobol or morris experiment needs exactly "
            f"one structure (experiment.structures={list(experiment.structures)})",
        )
    base = [*experiment.overrides, *run_overrides(extra_overrides)]
    points = _points(cfg, seed=0)
    specs = []
    for structure in experiment.structures:
        structure_config = load_config(*base, f"structure={structure}")
        for point in points:
            config = copy.deepcopy(structure_config)
            for key, value in point.items():
                _set(config, key, value)
            validate(config)
            digest = config_hash(config)
            for seed in range(experiment.seeds):
                run_config = copy.deepcopy(config)
                run_config.seed = seed
                specs.append(
                    RunSpec(run_config, digest, seed, structure, tuple(sorted(point.items())))
                )
    return specs


def _set(config: DictConfig, key: str, value: Any) -> None:
    try:
        known = OmegaConf.select(config, key, default=KeyError) is not KeyError
    except Exception:
        known = False
    if not known:
        raise ConfigError(key, f"experiment key {key} is not a config key")
    with user_errors():
        OmegaConf.update(config, key, value, merge=True)


def _run_one(config: DictConfig, run_dir: str) -> str:
    """Simulate one run and write its directory (in a worker process)."""
    from experiments.run import simulate, write_outputs

    write_outputs(simulate(config), Path(run_dir))
    return run_dir


def _execute(specs: list[RunSpec], runs_dir: Path, workers: int) -> Iterator[Path]:
    """Run the specs, yielding each finished run directory as it completes.

    Workers are forked from this process, which has already imported the model, so they start
    at once (a fresh interpreter per worker would spend seconds importing Mesa and numba).
    Every run is seeded by its own config, so the order in which workers finish is irrelevant.
    """
    if workers == 1 or len(specs) <= 1:
        for spec in specs:
            yield Path(_run_one(spec.config, str(runs_dir / spec.run_id)))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import experiments.run  # noqa: F401  (imported before forking, inherited by the workers)

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_run_one, s.config, str(runs_dir / s.run_id)) for s in specs]
        try:
            for future in as_completed(futures):
                yield Path(future.result())
        finally:
            for future in futures:
                future.cancel()


def run_experiment(
    cfg: DictConfig, extra_overrides: Iterable[str] = (), progress: bool = True
) -> list[RunSpec]:
    """Run what is missing of ``cfg.experiment`` and store it; return the full plan."""
    from tqdm import tqdm

    from experiments.store import collect, completed_runs

    experiment, results = cfg.experiment, cfg.results
    specs = plan(cfg, extra_overrides)
    db, runs_dir = Path(results.db), Path(results.runs_dir)
    finished = [
        runs_dir / s.run_id for s in specs if (runs_dir / s.run_id / "summary.json").exists()
    ]
    if finished:  # finished before an interruption but not yet stored
        collect(finished, db, sweep=experiment.name, experiment=experiment.name)
    done = completed_runs(db)
    todo = [s for s in specs if (s.config_hash, s.seed) not in done]
    workers = min(experiment.workers, max(1, len(todo)))
    print(
        f"{experiment.name}: {len(specs)} runs, {len(specs) - len(todo)} already stored, "
        f"{len(todo)} to run" + (f" on {workers} worker{'s' * (workers > 1)}" if todo else "")
    )
    pending: list[Path] = []
    bar = tqdm(total=len(todo), desc=experiment.name, unit="run", disable=not progress or not todo)
    for run_dir in _execute(todo, runs_dir, experiment.workers):
        pending.append(run_dir)
        bar.update()
        if len(pending) >= COLLECT_EVERY:
            collect(pending, db, sweep=experiment.name, experiment=experiment.name)
            pending = []
    bar.close()
    if pending:
        collect(pending, db, sweep=experiment.name, experiment=experiment.name)
    return specs


def results_frame(specs: list[RunSpec], db: Path | str) -> pd.DataFrame:
    """The stored ``runs`` rows of the planned runs (one per spec), with the point columns."""
    from experiments.store import connect

    ids = pd.DataFrame(
        {
            "run_id": [s.run_id for s in specs],
            **{k: [dict(s.point)[k] for s in specs] for k, _ in specs[0].point},
        }
    )
    with connect(db) as con:
        con.register("planned", ids)
        frame = con.execute(
            "SELECT planned.*, runs.* EXCLUDE (run_id) FROM planned JOIN runs USING (run_id)"
        ).df()
    return frame


def timeseries_frame(specs: list[RunSpec], db: Path | str, metrics: list[str]) -> pd.DataFrame:
    """Stored time series of the planned runs: run_id, structure, step and ``metrics``."""
    from experiments.store import connect

    ids = pd.DataFrame(
        {"run_id": [s.run_id for s in specs], "structure": [s.structure for s in specs]}
    )
    columns = ", ".join(f'timeseries."{m}"' for m in metrics)
    with connect(db) as con:
        con.register("planned", ids)
        return con.execute(
            f"SELECT planned.run_id, planned.structure, step, {columns} "
            "FROM planned JOIN timeseries USING (run_id) ORDER BY run_id, step"
        ).df()


def confidence_table(frame: pd.DataFrame, by: str, outputs: list[str]) -> pd.DataFrame:
    """Mean and 95% confidence interval (Student t over seeds) of each output per group."""
    rows = []
    for group, part in frame.groupby(by, sort=False):
        row: dict[str, Any] = {by: group, "runs": len(part)}
        for output in outputs:
            values = part[output].dropna().to_numpy(dtype=float)
            mean = values.mean() if len(values) else np.nan
            half = (
                stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
                if len(values) > 1
                else np.nan
            )
            row[output], row[f"{output}_ci"] = mean, half
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame, by: str, outputs: list[str], lang: str = "en") -> str:
    """The confidence table as aligned text: ``mean ± half-width`` per cell."""
    from experiments.labels import label

    header = [label(by, lang), *(label(o, lang) for o in outputs)]
    lines = [
        [
            str(label(str(row[by]), lang)),
            *(
                f"{row[o]:.3g} ± {row[f'{o}_ci']:.2g}"
                if np.isfinite(row[f"{o}_ci"])
                else f"{row[o]:.3g}"
                for o in outputs
            ),
        ]
        for _, row in table.iterrows()
    ]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    text = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    text += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join(text)


def bench_workers(seeds: int = 10) -> None:
    """Speed-up of the main job (compare_structures: 6 structures x ``seeds``) on 2 workers
    over 1 worker; worker start-up is included (2 workers first, cold)."""
    import tempfile
    import time

    cfg = load_config("experiment=compare_structures", f"experiment.seeds={seeds}")
    seconds = {}
    for workers in (2, 1):
        with tempfile.TemporaryDirectory() as temp:
            OmegaConf.update(cfg, "experiment.workers", workers)
            OmegaConf.update(cfg, "results.db", os.path.join(temp, "bench.duckdb"))
            OmegaConf.update(cfg, "results.runs_dir", os.path.join(temp, "runs"))
            start = time.perf_counter()
            run_experiment(cfg, progress=False)
            seconds[workers] = time.perf_counter() - start
    runs = 6 * seeds
    print(
        f"sweep: compare_structures, {runs} runs of 100x100 x 365 days: 1 worker "
        f"{seconds[1]:.1f} s, 2 workers {seconds[2]:.1f} s, speed-up "
        f"{seconds[1] / seconds[2]:.2f}x (target >= 1.8x)"
    )
