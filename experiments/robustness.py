"""Robustness over what we are unsure of, and scenario discovery (PRIM) on it.

``experiment=robustness`` runs every structure at every point of a Latin hypercube over the
uncertain inputs (calibrated keys drawn from the calibration's posterior, the rest over
documented ranges), with the same seeds for every structure at a point (common random
numbers). For each point, metric and structure, the **regret** is how far the structure falls
short of the best structure at that point (0 for the best). Table ``robustness`` holds one row
per point, structure and metric.

``experiment=scenario_discovery`` runs no model: it reads the stored robustness runs and, for
each question of ``experiment.questions``, finds with PRIM (ema-workbench) the box of inputs
where the answer is yes, and scores the inputs' importance with extra trees. Tables
``scenarios`` (the boxes) and ``feature_scores``.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from experiments.labels import HIGHER_IS_BETTER, LOWER_IS_BETTER
from model.config import plain_list
from model.errors import ConfigError

# ema_workbench warns on import that an evaluator cogov does not use is unavailable
warnings.filterwarnings("ignore", message="ipyparallel not installed")

QUESTION_KINDS = ("beats", "all_below", "all_above")
INPUT = "input."
"""Prefix of the design's input columns in table ``robustness``."""


def better(metric: str) -> str:
    """``higher`` or ``lower``: which way a metric is better."""
    if metric in HIGHER_IS_BETTER:
        return "higher"
    if metric in LOWER_IS_BETTER:
        return "lower"
    raise ConfigError(
        "experiment.outputs",
        f"{metric} has no better direction; robustness needs metrics where more or less is better",
    )


def point_table(specs, frame: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """One row per design point and structure: the point's inputs and each output averaged
    over seeds. ``point`` numbers the design points in plan order."""
    keys = [k for k, _ in specs[0].point]
    order = {point: i for i, point in enumerate(dict.fromkeys(s.point for s in specs))}
    frame = frame.copy()
    frame["point"] = [order[s.point] for s in specs]
    means = frame.groupby(["point", "structure"], sort=True)[outputs].mean().reset_index()
    inputs = frame.groupby("point")[keys].first().reset_index()
    return means.merge(inputs, on="point")


def regret_table(points: pd.DataFrame, outputs: list[str], inputs: list[str]) -> pd.DataFrame:
    """Long table: point, structure, metric, value, best (of the structures at that point),
    regret (>= 0), is_best, and the point's inputs (``input.<key>``)."""
    rows = []
    for metric in outputs:
        direction = better(metric)
        wide = points.pivot(index="point", columns="structure", values=metric)
        best = wide.max(axis=1) if direction == "higher" else wide.min(axis=1)
        regret = (
            (best.to_numpy()[:, None] - wide)
            if direction == "higher"
            else wide - best.to_numpy()[:, None]
        )
        for structure in wide.columns:
            rows.append(
                pd.DataFrame(
                    {
                        "point": wide.index,
                        "structure": structure,
                        "metric": metric,
                        "value": wide[structure].to_numpy(),
                        "best": best.to_numpy(),
                        "regret": regret[structure].to_numpy(),
                        "is_best": np.isclose(regret[structure].to_numpy(), 0),
                    }
                )
            )
    table = pd.concat(rows, ignore_index=True)
    design = points.groupby("point")[inputs].first().add_prefix(INPUT)
    return table.merge(design, left_on="point", right_index=True)


def summarise_regret(table: pd.DataFrame) -> pd.DataFrame:
    """Per metric and structure: median and 90th percentile of regret, share of futures
    where the structure is best."""
    return (
        table.groupby(["metric", "structure"], sort=False)
        .agg(
            median_regret=("regret", "median"),
            p90_regret=("regret", lambda r: float(np.nanquantile(r, 0.9))),
            best_share=("is_best", "mean"),
        )
        .reset_index()
    )


def check_questions(experiment: DictConfig, structures: list[str], metrics: set[str]) -> list[dict]:
    """The experiment's questions, checked: one line naming the problem."""
    questions = plain_list(experiment.questions) if experiment.questions else []
    if not questions:
        raise ConfigError("experiment.questions", "experiment.questions is empty")
    for question in questions:
        name = question.get("name", "?")
        if question.get("kind") not in QUESTION_KINDS:
            raise ConfigError(
                "experiment.questions",
                f"question {name}: kind {question.get('kind')!r}; expected one of: "
                + ", ".join(QUESTION_KINDS),
            )
        if question.get("metric") not in metrics:
            raise ConfigError(
                "experiment.questions",
                f"question {name}: unknown metric {question.get('metric')!r}; expected one of: "
                + ", ".join(sorted(metrics)),
            )
        needed = ("structure", "other") if question["kind"] == "beats" else ("threshold",)
        for key in needed:
            if key not in question:
                raise ConfigError("experiment.questions", f"question {name}: no {key}")
        for key in ("structure", "other"):
            if key in question and question[key] not in structures:
                raise ConfigError(
                    "experiment.questions",
                    f"question {name}: {key} {question[key]!r} is not among the robustness "
                    f"structures ({', '.join(structures)})",
                )
    return questions


def answer(points: pd.DataFrame, question: dict[str, Any]) -> pd.Series:
    """Per design point: is the answer to ``question`` yes?"""
    metric = question["metric"]
    wide = points.pivot(index="point", columns="structure", values=metric)
    if question["kind"] == "beats":
        a, b = wide[question["structure"]], wide[question["other"]]
        return (a > b) if better(metric) == "higher" else (a < b)
    if question["kind"] == "all_below":
        return (wide < question["threshold"]).all(axis=1)
    return (wide > question["threshold"]).all(axis=1)


def discover(
    points: pd.DataFrame, inputs: list[str], question: dict[str, Any], min_coverage: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM for one question: the chosen box's limits (one row per input, with coverage,
    density and mass) and the peeling trajectory."""
    from ema_workbench.analysis import prim

    x = points.groupby("point")[inputs].first().astype(float)  # PRIM pastes fractional limits
    y = answer(points, question).loc[x.index].to_numpy()
    if y.all() or not y.any():
        return pd.DataFrame(), pd.DataFrame()
    box = prim.Prim(x.reset_index(drop=True), y, peel_alpha=0.05, mass_min=0.05).find_box()
    assert box is not None  # the first box, from all the points
    trajectory = box.peeling_trajectory.copy()
    eligible = trajectory[trajectory["coverage"] >= min_coverage]
    chosen = int(cast(int, eligible["density"].idxmax())) if len(eligible) else 0
    box.select(chosen)
    limits = box.box_lims[chosen]
    step = trajectory.loc[chosen].to_dict()  # the chosen peeling step
    rows = [
        {
            "input": key,
            "low": float(limits[key].iloc[0]),
            "high": float(limits[key].iloc[1]),
            "restricted": bool(
                limits[key].iloc[0] > x[key].min() or limits[key].iloc[1] < x[key].max()
            ),
            "coverage": float(step["coverage"]),
            "density": float(step["density"]),
            "mass": float(step["mass"]),
            "box": chosen,
            "share_yes": float(y.mean()),
        }
        for key in inputs
    ]
    trajectory["chosen"] = trajectory.index == chosen
    return pd.DataFrame(rows), trajectory


def feature_scores(points: pd.DataFrame, inputs: list[str], outcomes: dict[str, pd.Series]):
    """Extra-trees feature scores of each input for each outcome (ema-workbench)."""
    from ema_workbench.analysis import feature_scoring

    x = points.groupby("point")[inputs].first().astype(float)  # PRIM pastes fractional limits
    rows = []
    for name, y in outcomes.items():
        y = y.loc[x.index]
        classes = y.dtype == bool
        if classes and (y.all() or not y.any()):
            continue
        mode = (
            feature_scoring.RuleInductionType.CLASSIFICATION
            if classes
            else feature_scoring.RuleInductionType.REGRESSION
        )
        scores, _ = feature_scoring.get_ex_feature_scores(
            x.reset_index(drop=True), y.to_numpy(), mode=mode, random_state=0
        )
        for feature, score in scores.iloc[:, 0].items():
            rows.append({"outcome": name, "input": feature, "score": float(score)})
    return pd.DataFrame(rows)


def stored_design(cfg: DictConfig) -> tuple[pd.DataFrame, list[str]]:
    """The stored robustness results of ``experiment.source`` as one row per point and
    structure (inputs and outputs); one line if there are none."""
    from experiments.store import connect

    name = cfg.experiment.source
    try:
        with connect(cfg.results.db) as con:
            table = con.execute("SELECT * FROM robustness WHERE experiment = ?", [name]).df()
    except Exception:  # no database or no table robustness
        table = pd.DataFrame()
    if table.empty:
        raise ConfigError(
            "experiment.source",
            f"no {name} results are stored in {cfg.results.db}; run "
            f"`uv run cogov experiment={name}` first",
        )
    inputs = [c for c in table.columns if c.startswith(INPUT)]
    points = table.pivot_table(
        index=["point", "structure", *inputs], columns="metric", values="value"
    ).reset_index()
    points.columns.name = None
    return points.rename(columns=lambda c: c.removeprefix(INPUT)), [
        c.removeprefix(INPUT) for c in inputs
    ]


def format_regret(summary: pd.DataFrame) -> str:
    """Per metric, each structure's median and 90th-percentile regret and the share of
    futures in which it is best, best share first."""
    lines = [f"{'metric / structure':<40} {'median':>8} {'p90':>8} {'best in':>8}"]
    for metric, part in summary.groupby("metric", sort=False):
        lines.append(f"{metric} ({better(str(metric))} is better)")
        for row in part.sort_values("best_share", ascending=False).itertuples():
            lines.append(
                f"  {row.structure:<38} {row.median_regret:>8.3g} {row.p90_regret:>8.3g} "
                f"{row.best_share:>7.0%}"
            )
    return "\n".join(lines)


def format_boxes(scenarios: pd.DataFrame) -> str:
    """Per question: how often the answer is yes, and the chosen PRIM box (its restricted
    inputs, coverage and density)."""
    lines = []
    for question, box in scenarios.groupby("question", sort=False):
        first = box.iloc[0]
        lines.append(
            f"{question}: yes in {first.share_yes:.0%} of futures; box with coverage "
            f"{first.coverage:.2f}, density {first.density:.2f}, mass {first.mass:.2f}:"
        )
        for row in box[box["restricted"]].itertuples():
            lines.append(f"  {row.input:<40} {row.low:.3g} .. {row.high:.3g}")
    return "\n".join(lines)
