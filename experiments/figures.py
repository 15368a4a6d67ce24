"""Every paper figure, drawn from the results database; missing runs are run first.

    uv run cogov-figures                        # every figure into figures/
    uv run cogov-figures --only pgg_validation  # one figure
    uv run cogov-figures lang=zh results.db=results/pilot.duckdb

One function per figure; each takes the experiment's config and its planned runs and returns
the figure and its caption. Figures are written as PNG (300 dpi) and PDF, atomically, with a
caption file ``captions.md`` beside them; with ``lang=zh`` as ``NAME.zh.png``, ``NAME.zh.pdf``
and ``captions.zh.md``, so that the languages never overwrite each other. Same database, same
figures: runs are deterministic from their seeds and the files carry no timestamps.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from omegaconf import DictConfig

from experiments.files import atomic_path
from experiments.labels import arrow, label, require_font, use_language
from experiments.store import StoreError, results_frame, timeseries_frame
from experiments.sweep import RunSpec
from experiments.tables import confidence_table, difference_table, t_half_width
from model.config import load_config
from model.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

PUBLISHED_R_C1, PUBLISHED_R_C2 = 3.74, 5.49  # Szolnoki, Perc & Szabo (2009), K = 0.5
STRUCTURE_COLOURS = {
    "bureaucratic": "#7f7f7f",
    "party_led": "#d62728",
    "grid": "#1f77b4",
    "sanshe": "#2ca02c",
    "decentralised": "#ff7f0e",
    "co_governance": "#9467bd",
    "canonical_pgg": "#000000",
}
STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "cogov",
}

Drawing = Callable[[DictConfig, list[RunSpec], str], tuple[Figure, str]]


REFERENCE = "bureaucratic"
"""The structure the headline figure measures the others against (the first one listed when
an experiment leaves it out)."""

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _caption(lang: str, en: str, zh: str) -> str:
    """The caption in ``lang``."""
    return zh if lang == "zh" else en


def all_zero(values: np.ndarray) -> bool:
    """Whether every finite value is zero (or none is finite): a panel with nothing to show."""
    finite = values[np.isfinite(values)]
    return not len(finite) or bool((finite == 0).all())


def _title(output: str, letter: str, lang: str, note: str) -> str:
    """``(a) label`` and, on a second line, which way the metric is better and ``note``."""
    direction = {"↑": "higher_is_better", "↓": "lower_is_better"}.get(arrow(output))
    better = f"{arrow(output)} {label(direction, lang)}; " if direction else ""
    return f"({letter}) {label(output, lang)}\n{better}{note}"


MIN_REACH = 0.05
"""Least half-range of a difference axis, as a share of the largest mean shown: a gap of
0.01 between shares near 0.5 is not drawn across the whole panel."""


def _difference_panel(ax, part: pd.DataFrame, others: list[str]) -> None:
    """One metric: each structure's difference from the reference with its 95% interval, on
    an axis centred on zero that spans at least MIN_REACH of the largest mean."""
    y = np.arange(len(others))[::-1]
    part = part.set_index("structure").loc[others]
    for k, name in enumerate(others):
        ax.errorbar(
            part["difference"].iloc[k],
            y[k],
            xerr=part["half_width"].fillna(0).iloc[k],
            fmt="o",
            ms=4,
            lw=1,
            capsize=2,
            color=STRUCTURE_COLOURS.get(name, "k"),
        )
    ax.axvline(0, color="0.5", lw=0.8, ls="--", zorder=0)
    means = pd.concat([part["reference_mean"], part["reference_mean"] + part["difference"]])
    reach = np.nanmax(
        [*(part["difference"].abs() + part["half_width"].fillna(0)), MIN_REACH * means.abs().max()]
    )
    reach = reach if np.isfinite(reach) and reach > 0 else 1.0
    ax.set_xlim(-1.15 * reach, 1.15 * reach)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    ax.tick_params(axis="x", labelsize=6)
    ax.set_ylim(-0.6, len(others) - 0.4)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)


def _means_as_differences(frame: pd.DataFrame, outputs: list[str], name: str) -> pd.DataFrame:
    """One structure's means and 95% half-widths, laid out as a difference table."""
    means = confidence_table(frame, "structure", outputs).iloc[0]
    return pd.DataFrame(
        {
            "structure": name,
            "output": outputs,
            "difference": [means[o] for o in outputs],
            "half_width": [means[f"{o}_ci"] for o in outputs],
            "reference_mean": [means[o] for o in outputs],
        }
    )


def structure_comparison(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Headline outcomes: each structure's difference from the reference structure
    (bureaucratic), per metric, with 95% Welch intervals; metrics that are zero in every
    run are left out."""
    frame = results_frame(specs, cfg.results.db)
    names = list(dict.fromkeys(frame["structure"]))
    reference = REFERENCE if REFERENCE in names else names[0]
    others = [n for n in names if n != reference] or [reference]
    outputs = [o for o in cfg.experiment.outputs if not all_zero(frame[o].to_numpy(float))]
    skipped = [o for o in cfg.experiment.outputs if o not in outputs]
    table = difference_table(frame, "structure", outputs, reference)
    axis = label("difference_from", lang).format(reference=label(reference, lang))
    if others == [reference]:  # one structure: its means, on an axis centred on zero
        table, axis = _means_as_differences(frame, outputs, reference), label("mean", lang)
    columns = min(3, max(1, len(outputs)))
    rows = max(1, -(-len(outputs) // columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(7.2, 0.3 + max(1.0, 0.35 + 0.17 * len(others)) * rows),  # a two-line title fits
        squeeze=False,
    )
    for ax, output, letter in zip(axes.flat, outputs, LETTERS, strict=False):
        part = table[table["output"] == output]
        _difference_panel(ax, part, others)
        note = f"{label(reference, lang)} {part['reference_mean'].iloc[0]:.3g}"
        ax.set_title(_title(output, letter, lang, note), loc="left", fontsize=7)
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], marker="o", ls="", color=STRUCTURE_COLOURS.get(n, "k")) for n in others
    ]
    fig.legend(
        handles,
        [label(n, lang) for n in others],
        loc="upper center",
        ncol=len(others),
        fontsize=7,
        handletextpad=0.2,
    )
    fig.supxlabel(axis)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    config = specs[0].config
    seeds, steps = cfg.experiment.seeds, config.steps
    width, height = config.world.width, config.world.height
    en_skipped = ", ".join(label(o, "en") for o in skipped)
    zh_skipped = "、".join(label(o, "zh") for o in skipped)
    caption = _caption(
        lang,
        "Governance structures compared at the same total budget: for each metric, the "
        f"difference of each structure's mean from that of {label(reference, 'en')} (dashed "
        "line at zero; its mean under each panel's title), with the 95% confidence interval "
        f"of the difference (Welch t), over {seeds} seeds per structure, after {steps} days "
        f"on a {width} x {height} grid. ↑ higher is better, ↓ lower is better. Each axis "
        f"spans at least ±{MIN_REACH:.0%} of the largest mean in its panel."
        + (f" Not drawn, zero in every run: {en_skipped}." if skipped else ""),
        f"相同总预算下各治理结构的比较: 每个指标中各结构均值与{label(reference, 'zh')}均值之差"
        "(虚线为零, 其均值标在各图标题下方)及该差值的95%置信区间(Welch t), 每个结构"
        f"{seeds}个随机种子, 运行{steps}天, 网格{width} x {height}户。↑ 越高越好, ↓ 越低越好。"
        f"各图横轴至少覆盖该图最大均值的±{MIN_REACH:.0%}。"
        + (f"未绘制(所有运行均为零): {zh_skipped}。" if skipped else ""),
    )
    return fig, caption


def cost_effectiveness(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Spending against problems solved and left unsolved, one point per run."""
    frame = results_frame(specs, cfg.results.db)
    spending = frame["cost_per_problem_solved"] * frame["problems_solved"]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.8), sharex=True)
    for ax, outcome, letter in zip(
        axes, ("problems_solved", "problems_unsolved"), "ab", strict=True
    ):
        for structure in dict.fromkeys(frame["structure"]):
            rows = frame["structure"] == structure
            ax.scatter(
                spending[rows],
                frame.loc[rows, outcome],
                s=12,
                color=STRUCTURE_COLOURS.get(structure, "k"),
                label=label(structure, lang),
            )
        ax.set_xlabel(label("spending_window", lang))
        ax.set_title(f"({letter}) {label(outcome, lang)}", loc="left")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    config = specs[0].config
    english = (
        "Cost-effectiveness: each point is one run; spending after the burn-in (staff-days) "
        "against (a) problems solved and (b) problems left unsolved over the same days. "
        f"{cfg.experiment.seeds} seeds per structure, {config.steps} days with a burn-in of "
        f"{config.metrics.burn_in} days, {config.world.width} x {config.world.height} "
        "households; every structure has the same budget."
    )
    chinese = (
        "成本效益: 每个点为一次运行; 预热期后的支出(人日)对比同期(a)已解决问题数与"
        f"(b)未解决问题数。每个结构{cfg.experiment.seeds}个随机种子, 运行{config.steps}天, "
        f"预热期{config.metrics.burn_in}天, {config.world.width} x {config.world.height}户; "
        "各结构预算相同。"
    )
    return fig, _caption(lang, english, chinese)


def size_invariance(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Per-household outcomes per structure at each map size, with 95% intervals."""
    outputs = list(cfg.experiment.outputs)
    frame = results_frame(specs, cfg.results.db)
    sizes = sorted(frame["world.width"].unique())
    structures = list(dict.fromkeys(frame["structure"]))
    columns = 3
    rows = -(-len(outputs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 2.2 * rows), squeeze=False)
    x = np.arange(len(structures))
    markers = "os^D"
    for ax, output, letter in zip(axes.flat, outputs, "abcdefghij", strict=False):
        for k, size in enumerate(sizes):
            part = frame[frame["world.width"] == size]
            table = confidence_table(part, "structure", [output]).set_index("structure")
            table = table.loc[structures]
            offset = (k - (len(sizes) - 1) / 2) * 0.25
            ax.errorbar(
                x + offset,
                table[output],
                yerr=table[f"{output}_ci"],
                fmt=markers[k % len(markers)],
                ms=3,
                lw=0.8,
                capsize=2,
                color=f"{0.55 * k / max(1, len(sizes) - 1):.2f}",
                label=f"{size} x {size}",
            )
        ax.set_title(f"({letter}) {label(output, lang)}", loc="left")
        ax.set_xticks(x, [label(n, lang) for n in structures], rotation=35, ha="right")
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    config = specs[0].config
    english = (
        "Results do not depend on the size of the map: per-household outcomes of each "
        f"structure on maps of {' and '.join(f'{s} x {s}' for s in sizes)} households, mean "
        f"of {cfg.experiment.seeds} seeds with 95% confidence intervals (Student t), "
        f"{config.steps} days, burn-in {config.metrics.burn_in} days; communities of about "
        f"{config.world.community_households} and grid units of about "
        f"{config.world.grid_unit_households} households at every size."
    )
    chinese = (
        "结果不依赖于地图规模: 各结构在"
        f"{'和'.join(f'{s} x {s}' for s in sizes)}户地图上的户均结果, "
        f"{cfg.experiment.seeds}个随机种子的均值及95%置信区间(t分布), 运行{config.steps}天, "
        f"预热期{config.metrics.burn_in}天; 各规模下社区约{config.world.community_households}户, "
        f"网格单元约{config.world.grid_unit_households}户。"
    )
    return fig, _caption(lang, english, chinese)


def _calibration(cfg: DictConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored particles (long) and summary of ``experiment.calibration``."""
    from experiments.store import connect

    name = cfg.experiment.calibration
    with connect(cfg.results.db) as con:
        particles = con.execute(
            "SELECT * FROM calibration WHERE calibration = ? ORDER BY generation, particle",
            [name],
        ).df()
        summary = con.execute(
            "SELECT * FROM calibration_summary WHERE calibration = ?", [name]
        ).df()
    return particles, summary


def calibration_posterior(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Posterior marginals of the calibrated parameters over their uniform priors."""
    particles, summary = _calibration(cfg)
    last = particles[particles["generation"] == particles["generation"].max()]
    keys = list(summary["parameter"])
    columns = 3
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 2.1 * rows), squeeze=False)
    records = summary.to_dict("records")
    for ax, row, letter in zip(axes.flat, records, "abcdefghij", strict=False):
        part = last[last["parameter"] == row["parameter"]]
        low, high = row["prior_low"], row["prior_high"]
        ax.hist(
            part["value"],
            bins=15,
            range=(low, high),
            weights=part["weight"],
            density=True,
            color="tab:blue",
            alpha=0.7,
        )
        ax.axhline(1 / (high - low), color="0.4", ls="--", lw=0.8)
        ax.axvline(row["median"], color="k", lw=0.8)
        ax.set_title(f"({letter}) {label(row['parameter'], lang)}", loc="left", fontsize=7)
        ax.set_yticks([])
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    fig.tight_layout()
    generations = int(particles["generation"].max()) + 1
    english = (
        f"Calibration ({cfg.experiment.calibration}, ABC-SMC with pyabc): weighted posterior "
        f"of each parameter after {generations} generations of {cfg.experiment.particles} "
        "particles (bars), against its uniform prior (dashed); the line is the posterior "
        f"median. Fitted under structure={cfg.experiment.structures[0]} to the calibrate "
        f"targets of {cfg.experiment.targets}."
    )
    chinese = (
        f"校准({cfg.experiment.calibration}, pyabc的ABC-SMC): 经过{generations}代、每代"
        f"{cfg.experiment.particles}个粒子后各参数的加权后验分布(柱), 与其均匀先验(虚线)对比; "
        f"竖线为后验中位数。在structure={cfg.experiment.structures[0]}下拟合"
        f"{cfg.experiment.targets}中的校准目标。"
    )
    return fig, _caption(lang, english, chinese)


def _against_targets(table: pd.DataFrame, ax, lang: str) -> None:
    y = np.arange(len(table))
    ax.errorbar(
        table["predicted"],
        y,
        xerr=[
            table["predicted"] - table["predicted_low"],
            table["predicted_high"] - table["predicted"],
        ],
        fmt="o",
        ms=3,
        color="tab:blue",
        lw=0.8,
        label=label("predicted", lang),
    )
    ax.errorbar(
        table["observed"],
        y + 0.25,
        xerr=[
            table["observed"] - table["observed_low"],
            table["observed_high"] - table["observed"],
        ],
        fmt="s",
        ms=3,
        color="tab:red",
        lw=0.8,
        label=label("observed", lang),
    )
    ax.set_yticks(
        y + 0.12,
        [f"{label(q, lang)}, {p}" for q, p in zip(table["quantity"], table["period"], strict=True)],
    )
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")


def calibration_fit(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Posterior predictive of each calibrate target against its observed interval."""
    from experiments.calibration import _targets_path, predicted_against_observed
    from experiments.targets import calibration_targets

    frame = results_frame(specs, cfg.results.db)
    table = predicted_against_observed(frame, calibration_targets(_targets_path(cfg.experiment)))
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(table) + 1.0))
    _against_targets(table, ax, lang)
    fig.tight_layout()
    english = (
        "Calibration fit: the model's posterior predictive (blue: median and 95% interval "
        f"over {cfg.experiment.draws} posterior draws, one seed each, structure="
        f"{cfg.experiment.structures[0]}) against each calibrate target's observed value and "
        "interval (red)."
    )
    chinese = (
        f"校准拟合: 模型的后验预测(蓝: {cfg.experiment.draws}次后验抽样、每次一个随机种子的"
        f"中位数及95%区间, structure={cfg.experiment.structures[0]})与各校准目标的观测值及"
        "区间(红)对比。"
    )
    return fig, _caption(lang, english, chinese)


def validation(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """The reform's predictions against the later figures the calibration never saw."""
    from experiments.calibration import _targets_path, inside_by_year, predicted_against_observed
    from experiments.targets import validation_targets

    frame = results_frame(specs, cfg.results.db)
    reform = frame[frame["structure"] == cfg.experiment.structures[-1]]
    table = predicted_against_observed(reform, validation_targets(_targets_path(cfg.experiment)))
    fig, ax = plt.subplots(figsize=(7.2, 0.32 * len(table) + 1.2))
    _against_targets(table, ax, lang)
    fig.tight_layout()
    english = (
        f"Out-of-sample validation: structure={cfg.experiment.structures[-1]} with the "
        f"calibrated parameters of {cfg.experiment.calibration} unchanged (blue: median and "
        f"95% interval over {cfg.experiment.draws} posterior draws, one seed each) against "
        "figures observed after the reform (red), none of which the calibration used. "
        f"{int(table['inside'].sum())} of {len(table)} observed values lie inside the "
        f"predicted interval (by year observed: {inside_by_year(table)}); the preset stands for "
        "the reform's first year."
    )
    chinese = (
        f"样本外验证: structure={cfg.experiment.structures[-1]}, 沿用"
        f"{cfg.experiment.calibration}的校准参数不变(蓝: {cfg.experiment.draws}次后验抽样、"
        "每次一个随机种子的中位数及95%区间), 与改革后的观测数据(红)对比, 校准未使用其中任何"
        f"数据。{len(table)}个观测值中有{int(table['inside'].sum())}个落在预测区间内"
        f"(按观测年份: {inside_by_year(table)}); 该预设代表改革第一年。"
    )
    return fig, _caption(lang, english, chinese)


def robustness(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Regret of each structure over the design (box plots) and the share of futures in
    which each is best, per headline metric; stores table ``robustness``."""
    from experiments.robustness import point_table, regret_table, summarise_regret
    from experiments.store import write_table

    outputs = list(cfg.experiment.outputs)
    points = point_table(specs, results_frame(specs, cfg.results.db), outputs)
    table = regret_table(points, outputs, [k for k, _ in specs[0].point])
    table.insert(0, "experiment", cfg.experiment.name)
    write_table(cfg.results.db, "robustness", table, {"experiment": cfg.experiment.name})
    summary = summarise_regret(table)
    structures = list(dict.fromkeys(s.structure for s in specs))
    fig, axes = plt.subplots(2, len(outputs), figsize=(7.2, 4.6), squeeze=False)
    x = np.arange(len(structures))
    colours = [STRUCTURE_COLOURS.get(n, "k") for n in structures]
    for k, output in enumerate(outputs):
        part = table[table["metric"] == output]
        regrets = [part.loc[part["structure"] == n, "regret"].dropna() for n in structures]
        top, bottom = axes[0, k], axes[1, k]
        top.boxplot(regrets, positions=x, widths=0.6, showfliers=False)
        top.set_title(f"({'abcdefghij'[k]}) {label(output, lang)}", loc="left", fontsize=7)
        shares = summary[summary["metric"] == output].set_index("structure").loc[structures]
        bottom.bar(x, shares["best_share"], color=colours)
        bottom.set_ylim(0, 1)
        for ax in (top, bottom):
            ax.set_xticks(
                x, [label(n, lang) for n in structures], rotation=60, ha="right", fontsize=6
            )
    axes[0, 0].set_ylabel(label("regret", lang))
    axes[1, 0].set_ylabel(label("best_share", lang))
    fig.tight_layout()
    experiment = cfg.experiment
    english = (
        f"Robustness over {experiment.samples} futures (a Latin hypercube over "
        f"{', '.join(experiment.levers)}"
        + (
            f", with the calibrated parameters drawn from {experiment.calibration}'s posterior"
            if experiment.calibration
            else ""
        )
        + f"; {experiment.seeds} seed(s) per structure and future, the same seeds for every "
        "structure). Top: regret, how far each structure falls short of the best structure in "
        "the same future (box: quartiles, whiskers: 1.5 IQR). Bottom: the share of futures in "
        "which each structure is best."
    )
    chinese = (
        f"{experiment.samples}种未来情景下的稳健性(对{', '.join(experiment.levers)}的拉丁"
        "超立方抽样"
        + (f", 校准参数取自{experiment.calibration}的后验" if experiment.calibration else "")
        + f"; 每个结构和情景{experiment.seeds}个随机种子, 各结构种子相同)。上: 遗憾值, 即同一"
        "情景中各结构与最优结构的差距(箱: 四分位数, 须: 1.5倍四分位距)。下: 各结构为最优的"
        "情景占比。"
    )
    return fig, _caption(lang, english, chinese)


def scenario_discovery(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """PRIM per question: peeling trajectory and the chosen box's limits (scaled to the
    design's range); stores tables ``scenarios`` and ``feature_scores``."""
    from experiments.robustness import (
        answer,
        check_questions,
        discover,
        feature_scores,
        stored_design,
    )
    from experiments.store import write_table

    experiment = cfg.experiment
    points, inputs = stored_design(cfg)
    structures = sorted(points["structure"].unique())
    metrics = [c for c in points.columns if c not in ("point", "structure", *inputs)]
    questions = check_questions(experiment, structures, set(metrics))
    outputs = sorted({q["metric"] for q in questions})
    fig, axes = plt.subplots(len(questions), 2, figsize=(7.2, 2.6 * len(questions)), squeeze=False)
    boxes, scores = [], []
    for k, question in enumerate(questions):
        limits, trajectory = discover(points, inputs, question, experiment.min_coverage)
        left, right = axes[k]
        title = f"({'abcdefghij'[2 * k]}) {question.get('description', question['name'])}"
        left.set_title(title, loc="left", fontsize=7)
        if limits.empty:
            share = float(answer(points, question).mean())
            left.text(0.5, 0.5, label("always" if share == 1 else "never", lang), ha="center")
            right.set_visible(False)
            continue
        limits.insert(0, "question", question["name"])
        boxes.append(limits)
        left.plot(trajectory["coverage"], trajectory["density"], "-o", ms=2, lw=0.8, color="0.4")
        chosen = trajectory[trajectory["chosen"]]
        left.plot(chosen["coverage"], chosen["density"], "o", color="tab:red")
        left.set_xlabel(label("coverage", lang))
        left.set_ylabel(label("density", lang))
        design = points.groupby("point")[inputs].first()
        span = (design.max() - design.min()).replace(0, 1)
        y = np.arange(len(inputs))
        low = (limits["low"].to_numpy() - design.min().to_numpy()) / span.to_numpy()
        high = (limits["high"].to_numpy() - design.min().to_numpy()) / span.to_numpy()
        right.barh(y, high - low, left=low, color=np.where(limits["restricted"], "tab:red", "0.8"))
        right.set_yticks(y, [label(i, lang) for i in inputs], fontsize=6)
        right.set_xlim(0, 1)
        right.set_title(f"({'abcdefghij'[2 * k + 1]}) {label('box', lang)}", loc="left", fontsize=7)
        outcome = answer(points, question)
        scores.append(feature_scores(points, inputs, {question["name"]: outcome}))
    for metric in outputs:
        for structure in structures:
            series = points[points["structure"] == structure].set_index("point")[metric]
            scores.append(feature_scores(points, inputs, {f"{structure}:{metric}": series}))
    fig.tight_layout()
    table = pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame()
    if not table.empty:
        table.insert(0, "experiment", experiment.name)
        write_table(cfg.results.db, "scenarios", table, {"experiment": experiment.name})
    scored = pd.concat(scores, ignore_index=True)
    scored.insert(0, "experiment", experiment.name)
    write_table(cfg.results.db, "feature_scores", scored, {"experiment": experiment.name})
    english = (
        f"Scenario discovery with PRIM (ema-workbench) on the {points['point'].nunique()} "
        f"futures of experiment={experiment.source}. Left: the peeling trajectory (coverage "
        "against density) and the box chosen, the densest with coverage of at least "
        f"{experiment.min_coverage}; right: that box's limits on each input, scaled to the "
        "design's range (red: restricted). Questions: "
        + "; ".join(q.get("description", q["name"]) for q in questions)
        + "."
    )
    chinese = (
        f"用PRIM(ema-workbench)对experiment={experiment.source}的"
        f"{points['point'].nunique()}种未来情景做情景发现。左: 剥离轨迹(覆盖率对密度)及所选"
        f"情景框, 即覆盖率不低于{experiment.min_coverage}时密度最高者; 右: 该框在各输入上的"
        "范围, 按设计取值区间缩放(红: 受限)。问题: "
        + "; ".join(q.get("description", q["name"]) for q in questions)
        + "。"
    )
    return fig, _caption(lang, english, chinese)


def shock_response(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Backlog and satisfaction over time under a shock, per structure, with 95% bands."""
    metrics = ["backlog", "mean_satisfaction"]
    series = timeseries_frame(specs, cfg.results.db, metrics)
    shock = specs[0].config.shock
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.8))
    for ax, metric in zip(axes, metrics, strict=True):
        for structure in dict.fromkeys(s.structure for s in specs):
            part = series[series["structure"] == structure]
            wide = part.pivot(index="step", columns="run_id", values=metric)
            mean = wide.mean(axis=1)
            band = wide.apply(lambda row: t_half_width(row.to_numpy(dtype=float)), axis=1)
            colour = STRUCTURE_COLOURS.get(structure, "k")
            ax.plot(mean.index, mean, color=colour, lw=1, label=label(structure, lang))
            ax.fill_between(mean.index, mean - band, mean + band, color=colour, alpha=0.2, lw=0)
        ax.axvspan(shock.start, shock.start + shock.duration, color="0.9", zorder=0)
        ax.set_xlabel(label("day", lang))
        ax.set_title(label(metric, lang))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    english = (
        f"Response to the {label(shock.name, 'en')} shock from day {shock.start} for "
        f"{shock.duration} days (grey): mean over {cfg.experiment.seeds} seeds with 95% "
        "confidence bands."
    )
    chinese = (
        f"{label(shock.name, 'zh')}冲击的响应, 冲击自第{shock.start}天起持续{shock.duration}天"
        f"(灰): {cfg.experiment.seeds}个随机种子的均值及95%置信带。"
    )
    return fig, _caption(lang, english, chinese)


def _heatmap(ax, table: pd.DataFrame, x: str, y: str, value: str, lang: str, cmap: str):
    grid = table.pivot(index=y, columns=x, values=value).sort_index(ascending=False)
    image = ax.imshow(grid.to_numpy(dtype=float), cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(grid.columns)), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(label(x, lang))
    ax.set_ylabel(label(y, lang))
    ax.set_title(label(value, lang))
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return grid


def _point_means(cfg: DictConfig, specs: list[RunSpec]) -> tuple[pd.DataFrame, list[str]]:
    keys = [k for k, _ in specs[0].point]
    frame = results_frame(specs, cfg.results.db)
    return frame.groupby(keys, as_index=False)[list(cfg.experiment.outputs)].mean(), keys


def devolution_heatmap(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Response time and local queues over authority x resources devolved."""
    table, _ = _point_means(cfg, specs)
    x, y = "government.devolution.authority", "government.devolution.resources"
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0))
    _heatmap(axes[0], table, x, y, "time_to_close_mean", lang, "viridis")
    _heatmap(axes[1], table, x, y, "workstation_queue", lang, "magma")
    fig.tight_layout()
    english = (
        "Devolution (治理重心下移): authority (x) and resources (y) moved to community "
        f"handlers separately; mean of {cfg.experiment.seeds} seeds per cell. Left: mean "
        "response time (days); right: open tasks in community queues at the end. On the "
        "diagonal the two move together (权责对等); below it authority exceeds resources. "
        "A blank cell: no issue was closed, so there is no response time."
    )
    chinese = (
        "治理重心下移: 事权(横轴)与资源(纵轴)分别下放给社区承办者; 每格为"
        f"{cfg.experiment.seeds}个随机种子的均值。左: 平均响应时间(天); 右: 期末社区待办任务数。"
        "对角线上两者同步下放(权责对等); 对角线以下事权多于资源。空白格: 没有办结的诉求, "
        "因此没有响应时间。"
    )
    return fig, _caption(lang, english, chinese)


def participation_phase(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Participation over party mobilisation x synergy r."""
    table, _ = _point_means(cfg, specs)
    fig, ax = plt.subplots(figsize=(3.8, 3.0))
    _heatmap(
        ax,
        table,
        "residents.synergy",
        "party.mobilisation_effect",
        "participation_rate",
        lang,
        "YlGn",
    )
    fig.tight_layout()
    english = (
        "Participation phase diagram: final share of co-producers over the synergy r "
        "and the party mobilisation effect (党建引领), mean of "
        f"{cfg.experiment.seeds} seeds."
    )
    chinese = (
        "参与相图: 共建者最终占比随协同系数r与党员动员效应(党建引领)的变化, "
        f"{cfg.experiment.seeds}个随机种子的均值。"
    )
    return fig, _caption(lang, english, chinese)


def pgg_validation(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Canonical game: stationary participation against r, with the published thresholds."""
    series = timeseries_frame(specs, cfg.results.db, ["participation_rate"])
    steps = specs[0].config.steps
    tail = series[series["step"] > steps - steps // 5]
    r_of = {s.run_id: dict(s.point)["residents.synergy"] for s in specs}
    stationary = tail.groupby("run_id")["participation_rate"].mean().rename("rho").to_frame()
    stationary["r"] = [r_of[i] for i in stationary.index]
    mean = stationary.groupby("r")["rho"].mean()
    fig, ax = plt.subplots(figsize=(3.8, 2.8))
    ax.scatter(stationary["r"], stationary["rho"], s=8, color="0.6", label=label("seed", lang))
    ax.plot(mean.index, mean, color="k", lw=1, label=label("mean", lang))
    for threshold in (PUBLISHED_R_C1, PUBLISHED_R_C2):
        ax.axvline(threshold, color="tab:red", ls="--", lw=0.8)
        ax.text(threshold - 0.03, 1.02, f"{threshold}", color="tab:red", ha="right", fontsize=7)
    ax.set_xlabel(label("residents.synergy", lang))
    ax.set_ylabel(label("participation_rate", lang))
    ax.set_ylim(-0.03, 1.08)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    world = specs[0].config.world
    english = (
        "Validation: the canonical spatial public goods game (institutions off, "
        f"{world.width} x {world.height} torus, K = {specs[0].config.residents.noise}), "
        f"co-producer share averaged over the last fifth of {steps} Monte Carlo steps "
        "against r; dashed: the thresholds of Szolnoki, Perc & Szabó (2009), "
        "r = 3.74 and r = 5.49."
    )
    chinese = (
        "验证: 经典空间公共物品博弈(关闭所有制度, "
        f"{world.width} x {world.height}环面, K = {specs[0].config.residents.noise}), "
        f"{steps}个蒙特卡洛步中最后五分之一的共建者平均占比随r的变化; 虚线: Szolnoki, Perc & "
        "Szabó (2009)给出的阈值r = 3.74和r = 5.49。"
    )
    return fig, _caption(lang, english, chinese)


def sensitivity_indices(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Sobol S1/ST (or Morris mu*/sigma) per lever and output."""
    from experiments.sensitivity import indices, store_indices

    table = indices(cfg, specs)
    store_indices(cfg, table)
    outputs = list(cfg.experiment.outputs)
    kinds = list(dict.fromkeys(table["index"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(7.2, 2.8), sharey=True, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, output, letter in zip(axes.flat, outputs, LETTERS, strict=False):
        part = table[table["output"] == output]
        levers = list(dict.fromkeys(part["lever"]))
        y = np.arange(len(levers))
        for k, kind in enumerate(kinds):
            rows = part[part["index"] == kind].set_index("lever").loc[levers]
            resolved = rows["resolved"].to_numpy(bool) | (kind == "sigma")
            ax.barh(
                y + 0.38 * (k - 0.5),
                rows["value"],
                height=0.36,
                xerr=rows["confidence"].fillna(0),
                color=[to_rgba(colours[k], 1.0 if r else 0.3) for r in resolved],
                label=kind,
                error_kw={"lw": 0.6},
            )
        ax.set_yticks(y, [label(lever, lang) for lever in levers])
        title = textwrap.fill(f"({letter}) {label(output, lang)}", 24 if lang == "en" else 12)
        ax.set_title(title, loc="left", fontsize=7)
        if "S1" in kinds:
            ax.set_xlim(-0.2, 1.2)  # Sobol indices lie in [0, 1]; wide bars mean few samples
    handles = [Patch(color=colours[k]) for k in range(len(kinds))]
    axes.flat[0].legend(handles, kinds, fontsize=7)
    fig.tight_layout()
    method = cfg.experiment.method.name.capitalize()
    english = (
        f"Global sensitivity ({method}, SALib) of headline outcomes to "
        f"the main levers; {cfg.experiment.samples} base samples, seeds averaged as "
        "replicates; bars: 95% confidence; pale: not resolved (the interval is not narrower "
        "than the index)."
    )
    chinese = (
        f"主要结果对主要杠杆的全局敏感性({method}, SALib); {cfg.experiment.samples}个基础样本, "
        "随机种子作为重复取均值; 误差线: 95%置信区间; 浅色: 未分辨(区间不窄于指数本身)。"
    )
    return fig, _caption(lang, english, chinese)


FIGURES: dict[str, tuple[str, Drawing]] = {
    "structure_comparison": ("compare_structures", structure_comparison),
    "shock_response": ("shock_response", shock_response),
    "devolution_heatmap": ("devolution", devolution_heatmap),
    "participation_phase": ("participation_phase", participation_phase),
    "pgg_validation": ("pgg_validation", pgg_validation),
    "sensitivity_indices": ("sensitivity", sensitivity_indices),
    "cost_effectiveness": ("compare_structures", cost_effectiveness),
    "size_invariance": ("size_invariance", size_invariance),
    "calibration_posterior": ("calibrate", calibration_posterior),
    "calibration_fit": ("calibrate", calibration_fit),
    "validation": ("validate_reform", validation),
    "robustness": ("robustness", robustness),
    "scenario_discovery": ("scenario_discovery", scenario_discovery),
}


def _savefig_atomically(fig: Figure, target: Path, **options) -> None:
    with atomic_path(target) as temp:
        fig.savefig(temp, **options)


def file_stem(name: str, lang: str = "en") -> str:
    """A figure's file name without suffix: ``name`` in English, ``name.zh`` in Chinese, so
    that the languages never overwrite each other."""
    return name if lang == "en" else f"{name}.{lang}"


def save(fig: Figure, name: str, folder: Path, lang: str = "en") -> list[Path]:
    """PNG (300 dpi) and PDF named by :func:`file_stem`, without timestamps, each written
    atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(name, lang)
    png, pdf = folder / f"{stem}.png", folder / f"{stem}.pdf"
    _savefig_atomically(fig, png, dpi=300, metadata={"Software": None})
    _savefig_atomically(
        fig, pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None}
    )
    plt.close(fig)
    return [png, pdf]


def draw(cfg: DictConfig, specs: list[RunSpec], name: str | None = None) -> tuple[list[Path], str]:
    """Draw figure ``name`` (the experiment's own by default) into ``results.figures_dir``;
    return files and caption."""
    name = name or cfg.experiment.figure
    if name not in FIGURES:
        raise ConfigError(
            "experiment.figure",
            f"experiment.figure={name!r} is not allowed; expected one of: " + ", ".join(FIGURES),
        )
    with plt.rc_context(STYLE):
        use_language(cfg.lang)
        fig, caption = FIGURES[name][1](cfg, specs, cfg.lang)
        return save(fig, name, Path(cfg.results.figures_dir), cfg.lang), caption


CAPTION_TITLES = {"en": "Figure captions", "zh": "图注"}


def write_captions(folder: Path, captions: dict[str, str], lang: str = "en") -> Path:
    """The captions file of ``lang`` (``captions.md``, ``captions.zh.md``): one section per
    figure, merged with captions already there."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_stem('captions', lang)}.md"
    known: dict[str, str] = {}
    if path.exists():
        for block in path.read_text(encoding="utf-8").split("\n## ")[1:]:
            title, _, text = block.partition("\n\n")
            known[title.strip()] = text.strip()
    known.update(captions)
    text = f"# {CAPTION_TITLES[lang]}\n" + "".join(
        f"\n## {name}\n\n{known[name]}\n" for name in FIGURES if name in known
    )
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """``cogov-figures``: say how many runs are missing and about how long they will take,
    run them for each figure, then draw it."""
    from experiments.estimate import missing, report
    from experiments.pipeline import runs_of
    from experiments.sweep import plans_kept

    parser = argparse.ArgumentParser(
        prog="cogov-figures", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument(
        "--only", choices=list(FIGURES), action="append", help="draw only this figure (repeatable)"
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides for every run, e.g. lang=zh results.db=PATH",
    )
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # files only; importing this module leaves notebooks' backend alone
    try:
        names = args.only or list(FIGURES)
        configs = {n: load_config(f"experiment={FIGURES[n][0]}", *args.overrides) for n in names}
        require_font(configs[names[0]].lang)  # before any run
        experiments = {c.experiment.name: c for c in configs.values()}
        captions = {}
        with plans_kept():  # each experiment planned once, for the estimate and the runs
            needs = [missing(c, args.overrides) for c in experiments.values()]
            print(report(needs, len(names)), flush=True)
            for name in names:
                cfg = configs[name]
                specs = runs_of(cfg, args.overrides)
                files, captions[name] = draw(cfg, specs, name)
                print(f"{name}: " + ", ".join(str(f) for f in files))
        print(f"captions: {write_captions(Path(cfg.results.figures_dir), captions, cfg.lang)}")
    except (ConfigError, StoreError) as error:
        print(f"cogov-figures: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
