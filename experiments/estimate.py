"""What ``cogov-figures`` still has to run, and about how long that will take: said up front,
before the first run.

The time is an estimate. Each experiment's seconds per run come from a short timed run (a
build and PROBE_DAYS days) of one run it is missing, scaled to its number of days; the runs
are shared among the experiment's workers. A calibration that is not stored counts as at
least ``particles x generations`` simulations.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from model.config import copy_config
from model.errors import ConfigError
from model.schema import Method

PROBE_DAYS = 10
"""Days of the timed run of each experiment."""


@dataclass(frozen=True)
class Missing:
    """What one experiment still has to run: ``runs`` of ``config`` (one of them, to time) on
    ``workers`` processes, and the calibration it needs first, if any (``calibration``
    simulations of ``calibration_config``)."""

    name: str
    runs: int
    config: DictConfig | None
    workers: int
    calibration: str | None = None
    simulations: int = 0
    calibration_config: DictConfig | None = None


def seconds_per_run(config: DictConfig, days: int = PROBE_DAYS) -> float:
    """Estimated wall-clock seconds of one run of ``config``: build the model, run ``days``
    days (at most its own) and write its files, then scale the days to ``config.steps``."""
    from experiments.run import write_outputs
    from model import CoGovModel

    probe = copy_config(config)
    probe.steps = min(days, int(config.steps))
    probe.metrics.burn_in = 0  # a burn-in must be shorter than the run
    start = time.perf_counter()
    model = CoGovModel(probe)
    built = time.perf_counter()
    model.run_for(probe.steps)
    ran = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_outputs(model, Path(folder))
    fixed = built - start + time.perf_counter() - ran
    return fixed + (ran - built) / max(1, probe.steps) * int(config.steps)


def _calibration_missing(cfg: DictConfig) -> bool:
    """Whether the experiment draws from a calibration that is not stored yet."""
    from experiments.calibration import posterior_draws

    method = Method(cfg.experiment.method)
    if method not in (Method.abc, Method.posterior) and not (
        method is Method.lhs and cfg.experiment.get("calibration")
    ):
        return False
    try:
        posterior_draws(cfg, 1)
    except ConfigError:
        return True
    return False


def _before_calibration(cfg: DictConfig, overrides: list[str]) -> Missing:
    """Every planned run of an experiment whose calibration is not stored yet, and that
    calibration: an abc experiment calibrates itself, the others run experiment=calibrate."""
    from experiments.sweep import _base_overrides, _worker_count, planned_runs
    from model.config import load_config

    experiment = cfg.experiment
    kept = [o for o in overrides if not o.lstrip("+~").startswith("experiment")]
    abc = Method(experiment.method) is Method.abc
    calibrate = cfg if abc else load_config("experiment=calibrate", *kept)
    runs = planned_runs(cfg)
    return Missing(
        experiment.name,
        runs,
        load_config(
            *_base_overrides(experiment, overrides), f"structure={experiment.structures[0]}"
        ),
        _worker_count(experiment.workers, runs)[0],
        str(experiment.calibration),
        calibrate.experiment.particles * calibrate.experiment.generations,
        load_config(
            *_base_overrides(calibrate.experiment, kept),
            f"structure={calibrate.experiment.structures[0]}",
        ),
    )


def missing(cfg: DictConfig, overrides: list[str]) -> Missing:
    """The runs of ``cfg.experiment`` that are not stored, and the calibration it needs."""
    from experiments.store import completed_runs
    from experiments.sweep import _worker_count, plan

    name = cfg.experiment.name
    if Method(cfg.experiment.method) is Method.prim:  # analyses stored runs only
        return Missing(name, 0, None, 1)
    if _calibration_missing(cfg):
        return _before_calibration(cfg, overrides)
    done = completed_runs(cfg.results.db)
    todo = [s for s in plan(cfg, overrides) if (s.config_hash, s.seed) not in done]
    config = todo[0].config if todo else None
    return Missing(name, len(todo), config, _worker_count(cfg.experiment.workers, len(todo))[0])


def estimate_seconds(needs: list[Missing]) -> float:
    """Estimated wall-clock seconds of everything in ``needs``, each calibration once."""
    from experiments.workers import available_cores

    total, calibrations = 0.0, {}
    for need in needs:
        if need.runs and need.config is not None:
            total += need.runs * seconds_per_run(need.config) / need.workers
        if need.calibration and need.calibration_config is not None:
            calibrations.setdefault(need.calibration, need)  # the first to run it
    for need in calibrations.values():
        per_run = seconds_per_run(need.calibration_config)
        total += need.simulations * per_run / available_cores()
    return total


def duration(seconds: float) -> str:
    """``40 s``, ``12 min``, ``3.5 h``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def report(needs: list[Missing], figures: int) -> str:
    """What is missing and how long it will take, in one or two lines."""
    runs = sum(n.runs for n in needs)
    calibrations: dict[str, int] = {}
    for need in needs:
        if need.calibration:
            calibrations.setdefault(need.calibration, need.simulations)  # the first to run it
    if not runs and not calibrations:
        return f"cogov-figures: every run of the {figures} figure(s) is stored; drawing only"
    parts = ", ".join(f"{n.name} {n.runs:,}" for n in needs if n.runs)
    text = f"cogov-figures: {runs:,} runs missing for {figures} figure(s)"
    text += f" ({parts})" if parts else ""
    for name, simulations in calibrations.items():
        text += f", after calibration {name} (at least {simulations:,} simulations)"
    seconds = estimate_seconds(needs)
    return (
        f"{text}\nestimated time: about {duration(seconds)} (an estimate, from a timed "
        f"{PROBE_DAYS}-day run of each experiment)"
    )
