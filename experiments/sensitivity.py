"""Global sensitivity analysis (SALib) of an experiment with ``method: sobol`` or ``morris``.

Seeds are replicates: each output is averaged over the seeds of a sample point before the
indices are estimated. Sobol gives first-order (S1) and total (ST) indices with 95%
confidence half-widths; Morris gives mu* (mean absolute elementary effect) and sigma. An
index is **resolved** when its half-width is smaller than the index itself; one that is not
is reported as indistinguishable from zero at this sample size, never as a value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from experiments.store import results_frame
from experiments.sweep import RunSpec, salib_problem
from model.schema import Method


def indices(cfg: DictConfig, specs: list[RunSpec]) -> pd.DataFrame:
    """Long table: experiment, method, output, lever, index, value, confidence, resolved."""
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
                    "resolved": bool(confidence < abs(value)),
                }
            )
    return pd.DataFrame(rows)


def format_indices(table: pd.DataFrame) -> str:
    """The indices per output and lever, ``value ±half-width``; ``n.r.`` (not resolved) where
    the half-width is not smaller than the index. Morris' sigma has no interval and is shown
    as it is."""
    kinds = [k for k in dict.fromkeys(table["index"]) if k != "sigma"]
    lines = []
    for output, part in table.groupby("output", sort=False):
        lines.append(f"{output}:")
        for lever, rows in part.groupby("lever", sort=False):
            cells = []
            for kind in kinds:
                row = rows[rows["index"] == kind].iloc[0]
                shown = f"{row.value:.3f} ±{row.confidence:.3f}" if row.resolved else "n.r."
                cells.append(f"{kind} {shown:>14}")
            lines.append(f"  {lever:<40} " + "  ".join(cells))
    resolved = table[table["index"] != "sigma"]["resolved"]
    lines.append(
        f"{int(resolved.sum())} of {len(resolved)} indices resolved (95% half-width smaller "
        "than the index); n.r.: indistinguishable from 0 at this sample size"
    )
    return "\n".join(lines)


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
