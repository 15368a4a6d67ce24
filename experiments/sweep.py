"""Experiments: a sweep preset turned into runs, run in parallel, stored, summarised.

An experiment (``configs/experiment/NAME.yaml``) names the structures to compare, the
parameter points (a grid, or a Sobol/Morris sample over lever ranges) and the seeds. Every
run is an ordinary single run with its own config; its directory is
``<results.runs_dir>/<config_hash>-<seed>``, written atomically, and it is collected into the
results database. Runs whose config hash and seed are already stored are skipped, so a sweep
that was killed finishes the missing runs when started again.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import pickle
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from experiments.files import user_path
from experiments.records import SUMMARY, run_id_of
from experiments.workers import available_cores
from model.config import (
    CONFIG_DIR,
    KEYS,
    KeyRole,
    as_override,
    config_hash,
    copy_config,
    key_role,
    load_config,
    plain_dict,
    plain_values,
    validate,
)
from model.errors import ConfigError, user_errors
from model.schema import Method

log = logging.getLogger(__name__)

COLLECT_EVERY = 20
"""Finished runs stored per database write while an experiment runs."""


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: its full config, its identity and where it stands. The config
    is kept pickled (19 KB against 140 KB as a live config), so that a plan of thousands of
    runs stays small."""

    pickled_config: bytes = field(compare=False, repr=False)
    config_hash: str
    seed: int
    structure: str
    point: tuple[tuple[str, Any], ...]  # the experiment's values for this run, sorted by key
    overrides: tuple[str, ...] = field(compare=False, default=())  # the command line of the run

    @property
    def config(self) -> DictConfig:
        """The run's full config (a fresh copy at every call)."""
        return pickle.loads(self.pickled_config)

    @property
    def run_id(self) -> str:
        return run_id_of(self.config_hash, self.seed)


def _points(experiment_config: DictConfig, seed: int) -> list[dict[str, Any]]:
    """The parameter points: every grid combination, a SALib sample over the levers, or draws
    from a stored calibration's posterior."""
    experiment = experiment_config.experiment
    method = Method(experiment.method)
    if method in (Method.abc, Method.posterior):  # the calibration's posterior predictive
        from experiments.calibration import posterior_draws

        return posterior_draws(experiment_config, experiment.draws, seed)
    if method is Method.grid:
        grid = plain_dict(experiment.grid)
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
    """The levers as a SALib problem; a range that is not ``[low, high]``, low < high, is
    one line naming the lever."""
    levers = plain_dict(experiment.levers)
    names = sorted(levers)
    for name in names:
        bounds = levers[name]
        if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] < bounds[1]):
            raise ConfigError(
                f"experiment.levers.{name}",
                f"experiment.levers.{name}={bounds} is not allowed; expected [low, high] "
                "with low < high",
            )
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


def run_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that apply to every run of an experiment (model keys such as
    world.width=50; not the experiment's axes, structure and seed, nor presentation keys)."""
    return [o for o in overrides if key_role(o) is KeyRole.model]


def command_line_overrides() -> list[str]:
    """The overrides of the running Hydra app (none outside it)."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


MODEL_KEYS = frozenset(key for key in KEYS if key_role(key) is KeyRole.model)
"""The keys that say what is simulated (``world.width``, ``steps``, ...): every run's own."""

MAX_RUNS = 10_000
"""Most runs one experiment may plan (each planned run holds its config, about 0.1 MB)."""

TINY_RUN = {
    "steps": 1,
    "metrics.burn_in": 0,
    "world.width": 3,
    "world.height": 3,
    "world.community_households": 9,
    "world.grid_unit_households": 9,
}
"""What turns a run into a one-day run on 3 x 3 households (one community, one grid unit),
to read off its metric names."""

SIZE_KEYS = {
    Method.sobol: "experiment.samples",
    Method.morris: "experiment.samples",
    Method.lhs: "experiment.samples",
    Method.abc: "experiment.draws",
    Method.posterior: "experiment.draws",
}
"""The key that sets an experiment's number of points, by method (a grid's is its lists)."""

_recorded: dict[str, frozenset[str]] = {}  # final metric names by the tiny run's config hash


def check_experiment(cfg: DictConfig, extra_overrides: Iterable[str] = ()) -> None:
    """Check the experiment before anything runs: its structures, grid values and lever
    ranges, its size (at most MAX_RUNS runs) and its outputs (final metrics that every
    structure's runs record). Raises :class:`ConfigError` naming the key on a problem."""
    experiment = cfg.experiment
    method = Method(experiment.method)
    if method is Method.prim:  # no runs: its questions, and the results it analyses
        from experiments.robustness import check_questions, stored_design

        source = load_config(f"experiment={experiment.source}").experiment
        check_questions(experiment, list(source.structures), set(source.outputs))
        stored_design(cfg)
        return
    structures = list(experiment.structures)
    if not structures:
        raise ConfigError(
            "experiment.structures",
            f"experiment.structures is empty; expected one or more of: {_structure_names()}",
        )
    if method in (Method.sobol, Method.morris) and len(structures) != 1:
        raise ConfigError(
            "experiment.structures",
            "a sobol or morris experiment needs exactly "
            f"one structure (experiment.structures={structures})",
        )
    points = _check_points(experiment, method)
    runs = len(structures) * points * experiment.seeds
    if runs > MAX_RUNS:
        key = SIZE_KEYS.get(method, "experiment.seeds")
        raise ConfigError(
            key,
            f"{key}={OmegaConf.select(cfg, key)} asks for {runs:,} runs "
            f"({_count(len(structures), 'structure')} x {_count(points, 'point')} x "
            f"{_count(experiment.seeds, 'seed')}); at most {MAX_RUNS:,} runs per experiment",
        )
    outputs = list(experiment.outputs)
    if not outputs:
        raise ConfigError("experiment.outputs", "experiment.outputs is empty; name a metric")
    base = _base_overrides(experiment, extra_overrides)
    runs = {structure: load_config(*base, f"structure={structure}") for structure in structures}
    for structure, run in runs.items():
        recorded = _recorded_metrics(run)
        unknown = [name for name in outputs if name not in recorded]
        if unknown:
            raise ConfigError(
                "experiment.outputs",
                f"experiment.outputs: {', '.join(unknown)} is not a metric that runs of "
                f"structure {structure} record; expected some of: {', '.join(sorted(recorded))}",
            )
    check_model_keys_reach_runs(cfg, runs[structures[0]])


def check_model_keys_reach_runs(
    cfg: DictConfig, run: DictConfig, fixed: Iterable[str] = ()
) -> None:
    """Refuse a model key that ``cfg`` sets (unlike the experiment's own config) but that a run
    of it, ``run``, does not get: each run is composed afresh from the experiment's overrides
    and the command line's model keys (``extra_overrides``), so in Python a key set only in
    ``cfg`` (``load_config("experiment=...", "world.width=50")``) would be silently lost. Keys
    the experiment varies from point to point, and the ``fixed`` ones it sets for every run, are
    not compared."""
    experiment = cfg.experiment
    varied = {
        key
        for name in ("grid", "levers", "priors")
        if (keys := OmegaConf.select(experiment, name, default=None)) is not None
        for key in keys
    }
    own = load_config(
        f"experiment={experiment.name}", f"structure={cfg.structure.name}", memory=False
    )
    lost = [
        as_override(key, chosen)
        for key in sorted(MODEL_KEYS - varied - set(fixed))
        if (chosen := OmegaConf.select(cfg, key)) != OmegaConf.select(own, key)
        and OmegaConf.select(run, key) != chosen
    ]
    if lost:
        raise ConfigError(
            lost[0].partition("=")[0],
            f"{', '.join(lost)}: set in the experiment's config but not given to its runs, "
            f"which get only the model keys passed alongside it: extra_overrides={lost}, as "
            "cogov passes its command line",
        )


def planned_runs(cfg: DictConfig) -> int:
    """How many runs the experiment plans (structures x points x seeds), without drawing its
    points: a posterior's draws are counted before its calibration exists."""
    experiment = cfg.experiment
    points = _check_points(experiment, Method(experiment.method))
    return len(experiment.structures) * points * experiment.seeds


def _count(number: int, noun: str) -> str:
    """``1 seed``, ``2 seeds``, ``1,000 points``."""
    return f"{number:,} {noun}{'s' * (number != 1)}"


def _structure_names() -> str:
    return ", ".join(sorted(p.stem for p in (CONFIG_DIR / "structure").glob("*.yaml")))


def _check_points(experiment: DictConfig, method: Method) -> int:
    """The number of parameter points, after checking the grid's values, the levers or the
    number of posterior draws."""
    if method in (Method.abc, Method.posterior):
        if experiment.draws is None:
            raise ConfigError(
                "experiment.draws",
                f"a {method.value} experiment needs experiment.draws (parameter sets drawn "
                "from the posterior), a positive integer",
            )
        return experiment.draws
    if method is Method.grid:
        grid = plain_dict(experiment.grid)
        for key, values in grid.items():
            if not values:
                raise ConfigError(
                    f"experiment.grid.{key}",
                    f"experiment.grid.{key} has no values; give one or more",
                )
        return math.prod(len(values) for values in grid.values())
    levers = salib_problem(experiment)["num_vars"]
    if not levers:
        raise ConfigError(
            "experiment.levers",
            f"a {method.value} experiment needs experiment.levers (key: [low, high])",
        )
    per_sample = {Method.sobol: levers + 2, Method.morris: levers + 1}
    return experiment.samples * per_sample.get(method, 1)


def _recorded_metrics(config: DictConfig) -> frozenset[str]:
    """The final metrics that runs of ``config`` record, read off a one-day run on a tiny
    world (the names depend on the structure, not on the world's size)."""
    from experiments.run import final_metrics, simulate

    tiny = copy_config(config)
    for key, value in TINY_RUN.items():
        OmegaConf.update(tiny, key, value)
    validate(tiny)
    digest = config_hash(tiny)
    if digest not in _recorded:
        _recorded[digest] = frozenset(final_metrics(simulate(tiny)))
    return _recorded[digest]


def _base_overrides(experiment: DictConfig, extra_overrides: Iterable[str]) -> list[str]:
    """The overrides of every run: the experiment's own, then the command line's model keys."""
    return [*experiment.overrides, *run_overrides(extra_overrides)]


_kept_plans: dict[tuple[str, tuple[str, ...]], list[RunSpec]] | None = None
"""Plans made inside :func:`plans_kept`, by experiment config and overrides."""


@contextmanager
def plans_kept() -> Iterator[None]:
    """Inside this block :func:`plan` makes each experiment's plan once and returns it again
    when asked for the same config and overrides: ``cogov-figures`` says what is missing, then
    runs it, from one plan per experiment. What a plan depends on does not change in between
    (a plan that needs a calibration is only made once the calibration is stored)."""
    global _kept_plans
    _kept_plans = {}
    try:
        yield
    finally:
        _kept_plans = None


def plan(cfg: DictConfig, extra_overrides: Iterable[str] = ()) -> list[RunSpec]:
    """Every run the experiment asks for, in a fixed order, after :func:`check_experiment`."""
    extra_overrides = tuple(extra_overrides)
    if _kept_plans is None:
        return _plan(cfg, extra_overrides)
    key = (json.dumps(plain_values(cfg), sort_keys=True, default=str), extra_overrides)
    if key not in _kept_plans:
        _kept_plans[key] = _plan(cfg, extra_overrides)
    return _kept_plans[key]


def _plan(cfg: DictConfig, extra_overrides: tuple[str, ...]) -> list[RunSpec]:
    check_experiment(cfg, extra_overrides)
    experiment = cfg.experiment
    base = _base_overrides(experiment, extra_overrides)
    points = _points(cfg, seed=0)
    specs = []
    for structure in experiment.structures:
        # each point starts from a copy: unpickling is the cheapest deep copy of a config
        structure_config = pickle.dumps(load_config(*base, f"structure={structure}"))
        for point in points:
            config = pickle.loads(structure_config)
            for key, value in point.items():
                _set(config, key, value)
            values = plain_values(config)
            validate(config, values=values)
            digest = config_hash(config, values)
            command = [*base, f"structure={structure}"]
            command += [as_override(k, v) for k, v in sorted(point.items())]
            for seed in range(experiment.seeds):
                config.seed = seed
                specs.append(
                    RunSpec(
                        pickle.dumps(config),
                        digest,
                        seed,
                        structure,
                        tuple(sorted(point.items())),
                        (*command, f"seed={seed}"),
                    )
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


def _run_one(pickled_config: bytes, run_dir: str) -> str:
    """Simulate one run and write its directory (in a worker process)."""
    from experiments.run import simulate, write_outputs

    write_outputs(simulate(pickle.loads(pickled_config)), Path(run_dir))
    return run_dir


def _execute(specs: list[RunSpec], runs_dir: Path, workers: int) -> Iterator[Path]:
    """Run the specs, yielding each finished run directory as it completes.

    Workers are forked from this process, which has already imported the model, so they start
    at once (a fresh interpreter per worker would spend seconds importing Mesa and numba).
    Every run is seeded by its own config, so the order in which workers finish is irrelevant.
    Each worker exits when this process dies (:func:`experiments.workers.exit_with_parent`).
    """
    if workers == 1 or len(specs) <= 1:
        for spec in specs:
            yield Path(_run_one(spec.pickled_config, str(runs_dir / spec.run_id)))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import experiments.run  # noqa: F401  (imported before forking, inherited by the workers)
    from experiments.workers import exit_with_parent

    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=exit_with_parent,  # a killed experiment leaves no worker behind
        initargs=(os.getpid(),),
    ) as pool:
        futures = [pool.submit(_run_one, s.pickled_config, str(runs_dir / s.run_id)) for s in specs]
        try:
            for future in as_completed(futures):
                yield Path(future.result())
        finally:
            for future in futures:
                future.cancel()


def run_experiment(
    cfg: DictConfig, extra_overrides: Iterable[str] = (), progress: bool = True
) -> list[RunSpec]:
    """Run what is missing of ``cfg.experiment`` and store it; return the full plan.

    Each run is composed afresh from the experiment's overrides, ``extra_overrides`` (the
    model keys every run gets, such as ``world.width=50``, as ``cogov`` passes its command
    line) and its structure, point and seed: model keys set only in ``cfg`` do not reach the
    runs, e.g. ``run_experiment(load_config("experiment=devolution"), ["world.width=50",
    "world.height=50"])``."""
    from tqdm import tqdm

    from experiments.store import claim_runs, collect, completed_runs

    experiment, results = cfg.experiment, cfg.results
    specs = plan(cfg, extra_overrides)
    db, runs_dir = results.db, user_path(results.runs_dir)
    finished = [runs_dir / s.run_id for s in specs if (runs_dir / s.run_id / SUMMARY).exists()]
    if finished:  # finished before an interruption but not yet stored
        collect(finished, db, sweep=experiment.name, experiment=experiment.name)
    claim_runs(db, [s.run_id for s in specs], experiment.name)  # e.g. collected by hand
    done = completed_runs(db)
    todo = [s for s in specs if (s.config_hash, s.seed) not in done]
    workers, workers_text = _worker_count(experiment.workers, len(todo))
    print(
        f"{experiment.name}: {len(specs)} runs, {len(specs) - len(todo)} already stored, "
        f"{len(todo)} to run" + (f" on {workers_text}" if todo else "")
    )
    launcher, launcher_overrides = chosen_launcher()
    if todo and launcher != "basic":  # the runs go through a Hydra launcher (Slurm, Ray, ...)
        launch(todo, runs_dir, db, launcher_overrides)
        finished = [runs_dir / s.run_id for s in todo if (runs_dir / s.run_id / SUMMARY).exists()]
        collect(finished, db, sweep=experiment.name, experiment=experiment.name)
        claim_runs(db, [s.run_id for s in todo], experiment.name)  # the sweep stored some
        return specs
    pending: list[Path] = []
    bar = tqdm(total=len(todo), desc=experiment.name, unit="run", disable=not progress or not todo)
    for run_dir in _execute(todo, runs_dir, workers):
        pending.append(run_dir)
        bar.update()
        if len(pending) >= COLLECT_EVERY:
            collect(pending, db, sweep=experiment.name, experiment=experiment.name)
            pending = []
    bar.close()
    if pending:
        collect(pending, db, sweep=experiment.name, experiment=experiment.name)
    return specs


def chosen_launcher() -> tuple[str, list[str]]:
    """The Hydra launcher chosen on this command line (``hydra/launcher=NAME``, ``basic``
    when none) and its overrides (``hydra/launcher=...``, ``hydra.launcher.*=...``)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return "basic", []
    hydra = HydraConfig.get()
    overrides = [
        o for o in hydra.overrides.hydra if o.startswith(("hydra/launcher=", "hydra.launcher."))
    ]
    return str(hydra.runtime.choices.get("hydra/launcher", "basic")), overrides


def launch(specs: list[RunSpec], runs_dir: Path, db: str, launcher_overrides: list[str]) -> None:
    """Run ``specs`` as a Hydra multirun with the chosen launcher: a plan file lists each run's
    command line, the ``cogov_plan`` sweeper hands them to the launcher, and each job writes
    ``runs_dir/<run_id>`` (hydra_plugins/cogov_plan_sweeper). Blocks until the launcher
    returns; the caller stores what finished."""
    import json
    import subprocess
    import sys
    from datetime import datetime

    plans = runs_dir / ".plans"
    plans.mkdir(parents=True, exist_ok=True)
    plan_file = plans / f"{datetime.now():%Y%m%d-%H%M%S-%f}.json"
    plan_file.write_text(
        json.dumps([{"run_id": s.run_id, "overrides": list(s.overrides)} for s in specs])
    )
    print(f"launching {_count(len(specs), 'run')} with {' '.join(launcher_overrides)}")
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "-m",
        "hydra/sweeper=cogov_plan",
        f"hydra.sweeper.plan={plan_file}",
        f"hydra.sweep.dir={runs_dir}",
        f"results.db={db}",
        *launcher_overrides,
    ]
    finished = subprocess.run(command, check=False)
    if finished.returncode != 0:
        print(f"the launcher stopped with exit code {finished.returncode}; storing what finished")


def _worker_count(asked: int, runs: int) -> tuple[int, str]:
    """How many workers run ``runs`` runs when ``experiment.workers=asked``: at most one per
    run and one per core; and the words for it (``2 workers (...)``, saying why if fewer)."""
    cores = available_cores()
    workers = min(asked, runs, cores)
    text = _count(workers, "worker")
    if workers == cores < asked:
        text += f" (experiment.workers={asked}, but {cores} cores here)"
    elif workers < asked:
        text += " (one per run)"
    return workers, text


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
