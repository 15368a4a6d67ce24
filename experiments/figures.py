"""Every paper figure, drawn from the results database; missing runs are run first.

    uv run cogov-figures                        # all six figures into figures/
    uv run cogov-figures --only pgg_validation  # one figure
    uv run cogov-figures lang=zh results.db=results/pilot.duckdb

One function per figure; each takes the experiment's config and its planned runs and returns
the figure and its caption. Figures are written as PNG (300 dpi) and PDF, atomically, with a
caption file ``captions.md`` beside them. Same database, same figures: runs are deterministic
from their seeds and the files carry no timestamps.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from omegaconf import DictConfig
from scipy import stats

from experiments.files import atomic_path
from experiments.labels import label, require_font, use_language
from experiments.store import StoreError
from experiments.sweep import (
    RunSpec,
    confidence_table,
    results_frame,
    run_experiment,
    timeseries_frame,
)
from model.config import load_config
from model.errors import ConfigError

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
STYLE = {
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


def _t_band(values: np.ndarray) -> float:
    """Half-width of the 95% Student-t confidence interval of the mean (NaN for n < 2)."""
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def structure_comparison(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Headline outcomes per structure: mean and 95% CI over seeds."""
    outputs = list(cfg.experiment.outputs)
    table = confidence_table(results_frame(specs, cfg.results.db), "structure", outputs)
    columns = 3
    rows = -(-len(outputs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 2.1 * rows), squeeze=False)
    names = list(table["structure"])
    x = np.arange(len(names))
    for ax, output in zip(axes.flat, outputs, strict=False):
        ax.errorbar(
            x,
            table[output],
            yerr=table[f"{output}_ci"],
            fmt="none",
            ecolor="0.3",
            capsize=2,
            lw=0.8,
        )
        ax.scatter(
            x, table[output], c=[STRUCTURE_COLOURS.get(n, "k") for n in names], s=18, zorder=3
        )
        ax.set_title(label(output, lang))
        ax.set_xticks(x, [label(n, lang) for n in names], rotation=35, ha="right")
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    fig.tight_layout()
    seeds = cfg.experiment.seeds
    caption = (
        f"Governance structures compared at the same total budget: mean of {seeds} "
        f"seeds per structure with 95% confidence intervals (Student t), after "
        f"{specs[0].config.steps} days on a {specs[0].config.world.width} x "
        f"{specs[0].config.world.height} grid."
    )
    return fig, caption


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
            band = wide.apply(lambda row: _t_band(row.to_numpy(dtype=float)), axis=1)
            colour = STRUCTURE_COLOURS.get(structure, "k")
            ax.plot(mean.index, mean, color=colour, lw=1, label=label(structure, lang))
            ax.fill_between(mean.index, mean - band, mean + band, color=colour, alpha=0.2, lw=0)
        ax.axvspan(shock.start, shock.start + shock.duration, color="0.9", zorder=0)
        ax.set_xlabel(label("day", lang))
        ax.set_title(label(metric, lang))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    caption = (
        f"Response to the {label(shock.name, 'en')} shock from day {shock.start} for "
        f"{shock.duration} days (grey): mean over {cfg.experiment.seeds} seeds with 95% "
        "confidence bands."
    )
    return fig, caption


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
    _heatmap(axes[0], table, x, y, "mean_response_time", lang, "viridis")
    _heatmap(axes[1], table, x, y, "local_queue", lang, "magma")
    fig.tight_layout()
    caption = (
        "Devolution (治理重心下移): authority (x) and resources (y) moved to community "
        f"handlers separately; mean of {cfg.experiment.seeds} seeds per cell. Left: mean "
        "response time (days); right: open tasks in community queues at the end. On the "
        "diagonal the two move together (权责对等); below it authority exceeds resources. "
        "A blank cell: no issue was closed, so there is no response time."
    )
    return fig, caption


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
    caption = (
        "Participation phase diagram: final share of co-producers over the synergy r "
        "and the party mobilisation effect (党建引领), mean of "
        f"{cfg.experiment.seeds} seeds."
    )
    return fig, caption


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
    caption = (
        "Validation: the canonical spatial public goods game (institutions off, "
        f"{world.width} x {world.height} torus, K = {specs[0].config.residents.noise}), "
        f"co-producer share averaged over the last fifth of {steps} Monte Carlo steps "
        "against r; dashed: the thresholds of Szolnoki, Perc & Szabó (2009), "
        "r = 3.74 and r = 5.49."
    )
    return fig, caption


def sensitivity_indices(cfg: DictConfig, specs: list[RunSpec], lang: str):
    """Sobol S1/ST (or Morris mu*/sigma) per lever and output."""
    from experiments.sensitivity import indices, store_indices

    table = indices(cfg, specs)
    store_indices(cfg, table)
    outputs = list(cfg.experiment.outputs)
    kinds = list(dict.fromkeys(table["index"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(7.2, 2.6), sharey=True, squeeze=False)
    for ax, output in zip(axes.flat, outputs, strict=True):
        part = table[table["output"] == output]
        levers = list(dict.fromkeys(part["lever"]))
        y = np.arange(len(levers))
        for k, kind in enumerate(kinds):
            rows = part[part["index"] == kind].set_index("lever").loc[levers]
            ax.barh(
                y + 0.38 * (k - 0.5),
                rows["value"],
                height=0.36,
                xerr=rows["confidence"].fillna(0),
                label=kind,
                error_kw={"lw": 0.6},
            )
        ax.set_yticks(y, [label(lever, lang) for lever in levers])
        ax.set_title(label(output, lang), wrap=True)
        if "S1" in kinds:
            ax.set_xlim(-0.2, 1.2)  # Sobol indices lie in [0, 1]; wide bars mean few samples
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    method = cfg.experiment.method.name.capitalize()
    caption = (
        f"Global sensitivity ({method}, SALib) of headline outcomes to "
        f"the main levers; {cfg.experiment.samples} base samples, seeds averaged as "
        "replicates; bars: 95% confidence."
    )
    return fig, caption


FIGURES: dict[str, tuple[str, Drawing]] = {
    "structure_comparison": ("compare_structures", structure_comparison),
    "shock_response": ("shock_response", shock_response),
    "devolution_heatmap": ("devolution", devolution_heatmap),
    "participation_phase": ("participation_phase", participation_phase),
    "pgg_validation": ("pgg_validation", pgg_validation),
    "sensitivity_indices": ("sensitivity", sensitivity_indices),
}


def _savefig_atomically(fig: Figure, target: Path, **options) -> None:
    with atomic_path(target) as temp:
        fig.savefig(temp, **options)


def save(fig: Figure, name: str, folder: Path) -> list[Path]:
    """PNG (300 dpi) and PDF, without timestamps, each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    png, pdf = folder / f"{name}.png", folder / f"{name}.pdf"
    _savefig_atomically(fig, png, dpi=300, metadata={"Software": None})
    _savefig_atomically(
        fig, pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None}
    )
    plt.close(fig)
    return [png, pdf]


def draw(cfg: DictConfig, specs: list[RunSpec]) -> tuple[list[Path], str]:
    """Draw the experiment's figure into ``results.figures_dir``; return files and caption."""
    name = cfg.experiment.figure
    if name not in FIGURES:
        raise ConfigError(
            "experiment.figure",
            f"experiment.figure={name!r} is not allowed; expected one of: " + ", ".join(FIGURES),
        )
    with plt.rc_context(STYLE):
        use_language(cfg.lang)
        fig, caption = FIGURES[name][1](cfg, specs, cfg.lang)
        return save(fig, name, Path(cfg.results.figures_dir)), caption


def write_captions(folder: Path, captions: dict[str, str]) -> Path:
    """``captions.md``: one section per figure, merged with captions already there."""
    path = folder / "captions.md"
    known: dict[str, str] = {}
    if path.exists():
        for block in path.read_text().split("\n## ")[1:]:
            title, _, text = block.partition("\n\n")
            known[title.strip()] = text.strip()
    known.update(captions)
    text = "# Figure captions\n" + "".join(
        f"\n## {name}\n\n{known[name]}\n" for name in FIGURES if name in known
    )
    with atomic_path(path) as temp:
        temp.write_text(text)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """``cogov-figures``: run what is missing for each figure, then draw it."""
    parser = argparse.ArgumentParser(prog="cogov-figures", description=__doc__.splitlines()[0])
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
        captions = {}
        for name in names:
            cfg = configs[name]
            specs = run_experiment(cfg, args.overrides)
            files, captions[name] = draw(cfg, specs)
            print(f"{name}: " + ", ".join(str(f) for f in files))
        print(f"captions: {write_captions(Path(cfg.results.figures_dir), captions)}")
    except (ConfigError, StoreError) as error:
        print(f"cogov-figures: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
