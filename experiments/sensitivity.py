"""Global sensitivity analysis (SALib) of an experiment with ``method: sobol`` or ``morris``.

Seeds are replicates: each output is averaged over the seeds of a sample point before the
indices are estimated. Sobol gives first-order (S1) and total (ST) indices with 95%
confidence half-widths; Morris gives mu* (mean absolute elementary effect) and sigma.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from experiments.store import results_frame
from experiments.sweep import RunSpec, salib_problem
from model.schema import Method


def indices(cfg: DictConfig, specs: list[RunSpec]) -> pd.DataFrame:
    """Long table: experiment, method, output, lever, index, value, confidence."""
    experiment = cfg.experiment
    method = Method(experiment.method)
    problem = salib_problem(experiment)
    frame = results_frame(specs, cfg.results.db)
    means = frame.groupby(problem["names"], sort=False)[list(experiment.outputs)].mean()
    sample = np.array([[dict(s.point)[n] for n in problem["names"]] for s in specs if s.seed == 0])
    rows = []
    for output in experiment.outputs:
        y = np.array([means.loc[tuple(point)][output] for point in sample], dtype=float)
        y = np.where(np.isfinite(y), y, np.nanmean(y))
        for lever, index, value, confidence in _analyse(method, problem, sample, y):
            rows.append(
                {
                    "experiment": experiment.name,
                    "method": method.value,
                    "output": output,
                    "lever": lever,
                    "index": index,
                    "value": value,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(rows)


def _analyse(method: Method, problem: dict, sample: np.ndarray, y: np.ndarray):
    if method is Method.sobol:
        from SALib.analyze import sobol

        result = sobol.analyze(problem, y, calc_second_order=False, seed=1)  # SALib ignores seed 0
        for i, lever in enumerate(problem["names"]):
            yield lever, "S1", result["S1"][i], result["S1_conf"][i]
            yield lever, "ST", result["ST"][i], result["ST_conf"][i]
    else:
        from SALib.analyze import morris

        result = morris.analyze(problem, sample, y, seed=1)
        for i, lever in enumerate(problem["names"]):
            yield lever, "mu_star", result["mu_star"][i], result["mu_star_conf"][i]
            yield lever, "sigma", result["sigma"][i], float("nan")


def store_indices(cfg: DictConfig, table: pd.DataFrame) -> None:
    """Replace this experiment's rows of table ``sensitivity`` in the results database."""
    from experiments.store import write_table

    write_table(
        cfg.results.db,
        "sensitivity",
        table,
        replace_where={
            "experiment": cfg.experiment.name,
            "method": Method(cfg.experiment.method).value,
        },
    )
