"""Calibration by approximate Bayesian computation (ABC-SMC, pyabc) to the ``calibrate``
targets of a targets file, and draws from the stored posterior.

    uv run cogov experiment=calibrate
    uv run cogov experiment=calibrate experiment.particles=20 experiment.generations=2

Each free parameter has a uniform prior ``experiment.priors: {key: [low, high]}`` (an integer
key gets a discrete uniform prior). A particle is one run of the fast engine under
``experiment.structures[0]`` with a fresh seed; its distance to the observations is the
Euclidean norm of the standardised differences ``(simulated - observed) / sd`` over the
targets. Generations run one after another; pyabc's SQLite history keeps every finished
generation, so a calibration killed at any point continues from the last finished generation
when the same command is run again. The accepted particles of every generation and their
weights go to table ``calibration`` of the results database, a summary per parameter to
``calibration_summary``, and the weighted posterior medians to the config group file
``configs/calibrated/<name>.yaml`` (select it with ``calibrated=<name>``).

pyabc reseeds its worker processes from the operating system, so two calibrations with the
same settings give statistically equivalent, not identical, posteriors; the stored particles
are the record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.targets import REPOSITORY, Target, calibration_targets
from model.config import CONFIG_DIR, config_hash, copy_config, load_config, plain_dict, validate
from model.errors import ConfigError, user_errors
from model.schema import iter_params

HISTORY_DIR = "calibration"
"""Folder under the runs folder's parent (``results/``) for pyabc's history files."""


@dataclass(frozen=True)
class Prior:
    """A uniform prior over ``[low, high]``; an integer parameter is rounded when set."""

    key: str
    low: float
    high: float
    integer: bool


def priors(experiment: DictConfig) -> list[Prior]:
    """The experiment's priors, checked: known keys, numbers, ``low < high``."""
    kinds = {key: f.type for key, f in iter_params()}
    found = plain_dict(experiment.priors) if experiment.priors else {}
    if not found:
        raise ConfigError(
            "experiment.priors", "experiment.priors is empty; give [low, high] per key"
        )
    result = []
    for key, bounds in sorted(found.items()):
        if key not in kinds or key.startswith(("experiment.", "results.", "seed")):
            raise ConfigError(
                "experiment.priors", f"experiment.priors names {key}, which is not a model key"
            )
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) for b in bounds)
        ):
            raise ConfigError(
                "experiment.priors", f"experiment.priors.{key}={bounds!r}; expected [low, high]"
            )
        low, high = map(float, bounds)
        if not low < high:
            raise ConfigError(
                f"experiment.priors.{key}",
                f"experiment.priors.{key}=[{bounds[0]}, {bounds[1]}] is not allowed; expected "
                "[low, high] with low < high",
            )
        result.append(Prior(key, low, high, kinds[key] in (int, "int")))
    return result


def base_config(cfg: DictConfig, extra_overrides: list[str]) -> DictConfig:
    """The config every particle starts from: the first structure, the experiment's and the
    command line's overrides, the engine in this process."""
    from experiments.sweep import run_overrides

    experiment = cfg.experiment
    return load_config(
        *experiment.overrides,
        *run_overrides(extra_overrides),
        f"structure={experiment.structures[0]}",
        "engine=fast",
    )


def with_parameters(base: DictConfig, parameters: dict[str, float], seed: int) -> DictConfig:
    """``base`` with ``parameters`` set (integers rounded) and ``seed``; validated."""
    config = copy_config(base)
    with user_errors():
        for key, value in rounded(parameters).items():
            OmegaConf.update(config, key, value, merge=True)
        config.seed = seed
    validate(config)
    return config


def simulate(config: DictConfig, quantities: list[str]) -> dict[str, float]:
    """Run one particle; its headline value of each quantity (NaN when undefined)."""
    from model import CoGovModel

    model = CoGovModel(config)
    model.run_for(config.steps)
    metrics = model.headline()
    return {q: float("nan") if (m := metrics[q]) is None else float(m) for q in quantities}


def settings_hash(cfg: DictConfig, base: DictConfig, targets: list[Target]) -> str:
    """What identifies a calibration: model config, priors, targets, particles."""
    experiment = cfg.experiment
    text = json.dumps(
        {
            "config": config_hash(base),
            "priors": OmegaConf.to_container(experiment.priors),
            "targets": [(t.id, t.value, t.sd) for t in targets],
            "particles": experiment.particles,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _sampler(experiment: DictConfig, resources: ExitStack):
    """pyabc's sampler for ``experiment.sampler``; a dask client and a local cluster are
    closed when ``resources`` closes (otherwise their workers outlive the calibration)."""
    import pyabc

    if experiment.sampler == "dask":
        from distributed import Client, LocalCluster

        if experiment.dask_address:
            client = resources.enter_context(Client(experiment.dask_address))
        else:
            cluster = resources.enter_context(
                LocalCluster(n_workers=experiment.workers, threads_per_worker=1, processes=True)
            )
            client = resources.enter_context(Client(cluster))
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
    if experiment.workers == 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=experiment.workers)


def _abc(
    cfg: DictConfig,
    base: DictConfig,
    targets: list[Target],
    found: list[Prior],
    resources: ExitStack,
):
    """The pyabc ABCSMC object for this calibration."""
    import pyabc

    quantities = sorted({t.quantity for t in targets})
    sd = {t.id: t.sd for t in targets}

    def model(parameters) -> dict[str, float]:
        values = {p.key: float(parameters[p.key]) for p in found}
        seed = int(np.random.randint(0, 2**31 - 1))
        metrics = simulate(with_parameters(base, values, seed), quantities)
        return {t.id: metrics[t.quantity] for t in targets}

    def distance(x: dict, x_0: dict) -> float:
        total = sum(((x[k] - x_0[k]) / sd[k]) ** 2 for k in x_0)
        return math.sqrt(total) if math.isfinite(total) else math.inf

    # an integer parameter is drawn from a continuous uniform and rounded when it is set:
    # pyabc's perturbation kernels are continuous
    prior = pyabc.Distribution(**{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in found})
    return pyabc.ABCSMC(
        model,
        prior,
        distance,
        population_size=cfg.experiment.particles,
        sampler=_sampler(cfg.experiment, resources),
    )


def history_path(cfg: DictConfig, settings: str) -> Path:
    runs = Path(cfg.results.runs_dir).expanduser()
    return runs.parent / HISTORY_DIR / f"{cfg.experiment.calibration}-{settings}.db"


def run_calibration(cfg: DictConfig, extra_overrides: Sequence[str] = ()) -> pd.DataFrame:
    """Run (or continue) the calibration; store it; return the accepted particles of every
    generation (columns generation, epsilon, particle, weight, distance and one per key).
    Every particle starts from :func:`base_config`: the model keys it gets are those of
    ``extra_overrides`` (as ``cogov`` passes its command line), not those set only in ``cfg``."""
    from experiments.sweep import check_model_keys_reach_runs

    experiment = cfg.experiment
    targets = calibration_targets(_targets_path(experiment))
    if not targets:
        raise ConfigError("experiment.targets", "the targets file has no calibrate entries")
    found = priors(experiment)
    base = base_config(cfg, list(extra_overrides))
    check_model_keys_reach_runs(cfg, base, fixed=["engine"])
    settings = settings_hash(cfg, base, targets)
    db = history_path(cfg, settings)
    experiment.calibration = calibration_name(experiment, settings)
    db.parent.mkdir(parents=True, exist_ok=True)
    # pyabc's own log lines become progress lines
    with Progress(experiment.generations), ExitStack() as resources:
        abc = _abc(cfg, base, targets, found, resources)
        if db.exists():
            history = abc.load(f"sqlite:///{db}", 1)
            print(f"{experiment.name}: continuing {db} after generation {history.max_t + 1}")
        else:
            history = abc.new(f"sqlite:///{db}", {t.id: t.value for t in targets})
            print(
                f"{experiment.name}: {len(found)} parameters, {len(targets)} targets, "
                f"{experiment.particles} particles, at most {experiment.generations} "
                f"generations -> {db}",
                flush=True,
            )
        left = experiment.generations - (history.max_t + 1)
        if left > 0:
            abc.run(minimum_epsilon=experiment.min_epsilon, max_nr_populations=left)
    particles = _particles(history, found)
    store_calibration(cfg, particles, found, settings)
    return particles


class Progress(logging.Handler):
    """Turns pyabc's log of each generation into one line: generation, epsilon, acceptance
    rate, simulations and time."""

    def __init__(self, generations: int):
        super().__init__(logging.INFO)
        self.generations = generations
        self.generation, self.epsilon, self.start = 0, float("nan"), time.perf_counter()
        self.logger = logging.getLogger("ABC")

    def __enter__(self) -> Progress:
        import pyabc  # noqa: F401  (importing it attaches pyabc's own stderr handler to "ABC")

        self.saved = (self.logger.handlers[:], self.logger.propagate, self.logger.level)
        self.logger.handlers, self.logger.propagate = [self], False
        self.logger.setLevel(logging.INFO)
        for child in ("ABC.Sampler", "ABC.History", "ABC.Epsilon", "ABC.Distance"):
            logging.getLogger(child).setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.handlers, self.logger.propagate, level = self.saved
        self.logger.setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        started = re.match(r"t: (\d+), eps: (\S+)\.$", message)
        accepted = re.match(r"Accepted: (\d+) / (\d+) = (\S+),", message)
        if started:
            self.generation, self.epsilon = int(started[1]), float(started[2])
            self.start = time.perf_counter()
        elif accepted:
            print(
                f"  generation {self.generation + 1}/{self.generations}: epsilon "
                f"{self.epsilon:.4g}, acceptance {float(accepted[3]):.3f} ({accepted[1]}/"
                f"{accepted[2]} simulations), {time.perf_counter() - self.start:.0f} s",
                flush=True,
            )


def _targets_path(experiment: DictConfig) -> Path:
    path = Path(experiment.targets).expanduser()
    return path if path.is_absolute() else REPOSITORY / path


def _particles(history, found: list[Prior]) -> pd.DataFrame:
    frames = []
    populations = history.get_all_populations()
    for t in range(history.max_t + 1):
        frame, weights = history.get_distribution(m=0, t=t)
        distances = history.get_weighted_distances(t=t)
        frame = frame.reset_index(drop=True)
        frame.insert(0, "distance", distances["distance"].to_numpy())
        frame.insert(0, "weight", np.asarray(weights))
        frame.insert(0, "particle", np.arange(len(frame)))
        epsilon = float(populations.loc[populations["t"] == t, "epsilon"].iloc[0])
        frame.insert(0, "epsilon", epsilon)
        frame.insert(0, "generation", t)
        frames.append(frame)
    particles = pd.concat(frames, ignore_index=True)
    return particles[
        ["generation", "epsilon", "particle", "weight", "distance", *(p.key for p in found)]
    ]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights``."""
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return float(np.interp(q, cumulative, values))


def summary_table(particles: pd.DataFrame, found: list[Prior]) -> pd.DataFrame:
    """Per parameter: prior, posterior median and 90% interval, and identifiability (the
    posterior's 90% width over the prior's 90% width: near 1, the targets leave it free)."""
    last = particles[particles["generation"] == particles["generation"].max()]
    weights = last["weight"].to_numpy()
    rows = []
    for p in found:
        values = last[p.key].to_numpy(dtype=float)
        low, median, high = (weighted_quantile(values, weights, q) for q in (0.05, 0.5, 0.95))
        rows.append(
            {
                "parameter": p.key,
                "prior_low": p.low,
                "prior_high": p.high,
                "median": round(median) if p.integer else median,
                "q05": low,
                "q95": high,
                "width_ratio": (high - low) / (0.9 * (p.high - p.low)),
            }
        )
    return pd.DataFrame(rows)


def store_calibration(
    cfg: DictConfig, particles: pd.DataFrame, found: list[Prior], settings: str
) -> None:
    """Tables ``calibration`` and ``calibration_summary`` (this calibration's rows replaced)
    and the config group file of the posterior medians."""
    from experiments.store import write_table

    name = cfg.experiment.calibration
    table = particles.melt(
        id_vars=["generation", "epsilon", "particle", "weight", "distance"],
        var_name="parameter",
        value_name="value",
    )
    table.insert(0, "settings", settings)
    table.insert(0, "calibration", name)
    write_table(cfg.results.db, "calibration", table, replace_where={"calibration": name})
    summary = summary_table(particles, found)
    summary.insert(0, "settings", settings)
    summary.insert(0, "calibration", name)
    write_table(cfg.results.db, "calibration_summary", summary, replace_where={"calibration": name})
    print(format_summary(summary))
    generations = int(particles["generation"].max()) + 1
    path = write_calibrated(cfg, summary, found, generations, settings)
    write_posterior(cfg, particles, found)
    print(f"posterior medians: {path} (use calibrated={name})")


def format_summary(summary: pd.DataFrame) -> str:
    lines = [f"{'parameter':<40} {'prior':>15} {'median':>8} {'90% interval':>18} {'width':>6}"]
    for row in summary.itertuples():
        lines.append(
            f"{row.parameter:<40} {f'[{row.prior_low:g}, {row.prior_high:g}]':>15} "
            f"{row.median:>8.3g} {f'[{row.q05:.3g}, {row.q95:.3g}]':>18} {row.width_ratio:>6.2f}"
        )
    return "\n".join(lines)


def calibrated_path(experiment: DictConfig) -> Path:
    """The calibrated config group file: ``experiment.output`` or
    ``configs/calibrated/<calibration>.yaml``."""
    if experiment.output:
        return Path(experiment.output).expanduser()
    return CONFIG_DIR / "calibrated" / f"{experiment.calibration}.yaml"


def calibration_name(experiment: DictConfig, settings: str) -> str:
    """The name this calibration is stored and written under: ``experiment.calibration``,
    unless its calibrated file already holds a calibration with other settings (another
    size, other particles, other priors or model); then ``<name>-<settings>``, so that a
    trial never overwrites a committed calibration. To replace one, delete its file or set
    ``experiment.output``."""
    name = experiment.calibration
    path = calibrated_path(experiment)
    if experiment.output or not path.exists():
        return name
    recorded = re.search(r"^# settings: (\w+)$", path.read_text(encoding="utf-8"), re.M)
    if recorded and recorded[1] == settings:
        return name
    renamed = f"{name}-{settings[:8]}"
    print(
        f"{experiment.name}: {path} holds a calibration with other settings; this one is "
        f"stored as {renamed} (to replace {name}, delete its file or set experiment.output)"
    )
    return renamed


def posterior_path(experiment: DictConfig) -> Path:
    """The last generation's particles and weights, next to the calibrated file
    (``<calibration>.posterior.csv``), so that a fresh checkout can draw from the posterior
    without the results database."""
    return calibrated_path(experiment).with_suffix(".posterior.csv")


def write_posterior(cfg: DictConfig, particles: pd.DataFrame, found: list[Prior]) -> Path:
    """Write the last generation (columns particle, weight and one per parameter) as CSV."""
    from experiments.files import atomic_path

    last = particles[particles["generation"] == particles["generation"].max()]
    path = posterior_path(cfg.experiment)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        last[["particle", "weight", *(p.key for p in found)]].to_csv(
            temp, index=False, float_format="%.6g"
        )
    return path


def write_calibrated(
    cfg: DictConfig, summary: pd.DataFrame, found: list[Prior], generations: int, settings: str
) -> Path:
    """``configs/calibrated/<name>.yaml`` (or ``experiment.output``): the posterior medians
    as a config group option."""
    from experiments.files import atomic_path

    experiment = cfg.experiment
    path = calibrated_path(experiment)
    values: dict[str, Any] = {}
    for row in summary.to_dict("records"):
        node = values
        *parents, leaf = row["parameter"].split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = (
            int(row["median"])
            if next(p for p in found if p.key == row["parameter"]).integer
            else round(float(row["median"]), 4)
        )
    header = (
        "# @package _global_\n"
        f"# Posterior medians of experiment={experiment.name} (ABC-SMC with pyabc): "
        f"{experiment.particles} particles,\n# {generations} generations, fitted under "
        f"structure={experiment.structures[0]} to the calibrate targets of {experiment.targets}.\n"
        "# Written by the calibration; docs/ODD.md (Calibration and validation) reports it.\n"
        f"# settings: {settings}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        temp.write_text(header + OmegaConf.to_yaml(OmegaConf.create(values)))
    return path


def posterior_draws(cfg: DictConfig, n: int, seed: int = 0) -> list[dict[str, float]]:
    """``n`` parameter sets drawn (by weight, with replacement) from the last generation of
    the calibration ``experiment.calibration``: as stored in the results database, or else as
    committed next to its calibrated file (:func:`posterior_path`)."""
    wide = _stored_posterior(cfg)
    if wide.empty and posterior_path(cfg.experiment).exists():
        wide = pd.read_csv(posterior_path(cfg.experiment))
    if wide.empty:
        raise ConfigError(
            "experiment.calibration",
            f"no calibration {cfg.experiment.calibration!r} is stored in {cfg.results.db} or "
            f"{posterior_path(cfg.experiment)}; run `uv run cogov experiment=calibrate` first",
        )
    wide = wide.sort_values("particle")
    weights = wide["weight"].to_numpy(dtype=float)
    rows = np.random.default_rng(seed).choice(len(wide), size=n, p=weights / weights.sum())
    keys = sorted(c for c in wide.columns if c not in ("particle", "weight"))
    return [rounded({k: float(wide.iloc[i][k]) for k in keys}) for i in rows]


def _stored_posterior(cfg: DictConfig) -> pd.DataFrame:
    """The last generation in table ``calibration``, one row per particle (empty if none)."""
    import duckdb

    from experiments.store import StoreError, connect

    name = cfg.experiment.calibration
    try:
        with connect(cfg.results.db) as con:
            frame = con.execute(
                "SELECT generation, particle, weight, parameter, value FROM calibration "
                "WHERE calibration = ? AND generation = "
                "(SELECT max(generation) FROM calibration WHERE calibration = ?)",
                [name, name],
            ).df()
    except (StoreError, duckdb.Error):  # no database yet, or no calibration table in it
        return pd.DataFrame()
    if frame.empty:
        return frame
    wide = frame.pivot(index=["particle", "weight"], columns="parameter", values="value")
    return wide.reset_index()


def rounded(parameters: dict[str, float]) -> dict[str, float | int]:
    """Integer parameters rounded (they are calibrated on a continuous scale)."""
    kinds = {key: f.type for key, f in iter_params()}
    return {k: round(v) if kinds[k] in (int, "int") else v for k, v in parameters.items()}


def ensure_calibration(cfg: DictConfig, extra_overrides: list[str]) -> None:
    """Run the calibration ``experiment.calibration`` first if none is stored."""
    try:
        posterior_draws(cfg, 1)
    except ConfigError:
        print(
            f"{cfg.experiment.name}: no calibration {cfg.experiment.calibration!r} stored in "
            f"{cfg.results.db}; running experiment=calibrate first"
        )
        kept = [o for o in extra_overrides if not o.lstrip("+~").startswith("experiment")]
        run_calibration(load_config("experiment=calibrate", *kept), kept)


def predicted_against_observed(frame: pd.DataFrame, targets: list[Target]) -> pd.DataFrame:
    """Per target: the observed value and interval, and the model's predicted median and
    95% interval over the runs in ``frame`` (posterior draws x seeds); ``inside`` when the
    observed value lies in the predicted interval."""
    rows = []
    for target in targets:
        values = frame[target.quantity].dropna().to_numpy(dtype=float)
        if len(values):
            low, median, high = np.quantile(values, [0.025, 0.5, 0.975])
        else:
            low = median = high = float("nan")
        rows.append(
            {
                "target": target.id,
                "quantity": target.quantity,
                "period": target.when,
                "year": target.year,
                "confidence": target.confidence,
                "observed": target.value,
                "observed_low": target.low,
                "observed_high": target.high,
                "predicted": median,
                "predicted_low": low,
                "predicted_high": high,
                "inside": bool(low <= target.value <= high),
            }
        )
    return pd.DataFrame(rows)


def inside_by_year(table: pd.DataFrame) -> str:
    """How many observed values lie inside the predicted interval, per year observed
    (``2019 2 of 3; 2021 0 of 4``): a preset stands for one period, not for every year."""
    counts = table.groupby("year", sort=True)["inside"].agg(["sum", "count"])
    return "; ".join(
        f"{year} {int(r['sum'])} of {int(r['count'])}" for year, r in counts.iterrows()
    )


def format_comparison(table: pd.DataFrame) -> str:
    """Observed against predicted, one line per target."""
    lines = [f"{'target':<44} {'observed':>9} {'predicted (95%)':>24}  inside"]
    for row in table.itertuples():
        interval = f"{row.predicted:.3f} [{row.predicted_low:.3f}, {row.predicted_high:.3f}]"
        inside = "yes" if row.inside else "no"
        lines.append(f"{row.target:<44} {row.observed:>9.3f} {interval:>24}  {inside}")
    return "\n".join(lines)


def prepare(cfg: DictConfig, extra_overrides: list[str]) -> None:
    """What an experiment needs before its runs: the calibration itself (``method=abc``,
    continued or skipped when stored), or a stored calibration to draw from (``posterior``,
    and ``lhs`` with a calibration)."""
    from model.schema import Method

    method = Method(cfg.experiment.method)
    if method is Method.abc:
        run_calibration(cfg, extra_overrides)
    elif method is Method.posterior or (method is Method.lhs and cfg.experiment.calibration):
        ensure_calibration(cfg, extra_overrides)


def bench_calibration(particles: int = 40, singles: int = 10) -> None:
    """``cogov-bench --only calibrate``: simulations per second of one ABC-SMC generation on
    all cores (the preset's model and map), against single runs one after another in this
    process."""
    import tempfile

    cfg = load_config("experiment=calibrate", f"experiment.particles={particles}")
    base = base_config(cfg, [])
    found = priors(cfg.experiment)
    rng = np.random.default_rng(0)
    quantities = sorted({t.quantity for t in calibration_targets(_targets_path(cfg.experiment))})
    simulate(with_parameters(base, {p.key: (p.low + p.high) / 2 for p in found}, 0), quantities)
    start = time.perf_counter()
    for seed in range(singles):
        draw = {p.key: rng.uniform(p.low, p.high) for p in found}
        simulate(with_parameters(base, draw, seed), quantities)
    single_rate = singles / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as temp:
        cfg.results.runs_dir = str(Path(temp) / "runs")
        cfg.results.db = str(Path(temp) / "bench.duckdb")
        cfg.experiment.output = str(Path(temp) / "calibrated.yaml")
        cfg.experiment.generations = 1
        start = time.perf_counter()
        targets = calibration_targets(_targets_path(cfg.experiment))
        with Progress(1), ExitStack() as resources:
            abc = _abc(cfg, base, targets, found, resources)
            observed = {t.id: t.value for t in targets}
            history = abc.new(f"sqlite:///{Path(temp) / 'bench.db'}", observed)
            abc.run(max_nr_populations=1)
        seconds = time.perf_counter() - start
        # the generation's simulations plus the prior sample pyabc draws to set its first epsilon
        simulations = history.total_nr_simulations + particles
    world = base.world
    workers = cfg.experiment.workers
    print(f"calibrate: ABC-SMC, {workers} workers, {world.width}x{world.height}, {base.steps} days")
    print(f"  single runs in this process: {single_rate:.2f} simulations/s")
    rate = simulations / seconds
    print(
        f"  one generation of {particles} particles: {simulations} simulations in {seconds:.1f} s"
        f" -> {rate:.2f} simulations/s ({rate / single_rate:.2f}x single runs)"
    )
