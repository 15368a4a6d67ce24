"""The headline figure and figure files: letters, better directions, no empty panels, honest
axes, one legend, and Chinese files beside the English ones."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from experiments import figures
from experiments.labels import arrow, cjk_font, label, use_language
from model import load_config

matplotlib.use("Agg")

STRUCTURES = ["bureaucratic", "party_led", "grid", "sanshe"]


@pytest.fixture
def headline(monkeypatch):
    """The headline figure drawn from made-up runs: participation is zero in every run, and
    trust differs between structures by 0.01 around 0.5."""
    cfg = load_config("experiment=compare_structures", "experiment.seeds=5")
    outputs = list(cfg.experiment.outputs)
    rng = np.random.default_rng(1)
    rows = []
    for k, structure in enumerate(STRUCTURES):
        for _ in range(5):
            row = {"structure": structure, **{o: rng.normal(0.6, 0.05) for o in outputs}}
            row["participation_rate"] = 0.0
            row["mean_trust"] = 0.5 + 0.01 * k + rng.normal(0, 0.001)
            rows.append(row)
    monkeypatch.setattr(figures, "results_frame", lambda specs, db: pd.DataFrame(rows))
    specs = [SimpleNamespace(config=cfg)]

    def draw(lang: str = "en"):
        return figures.structure_comparison(cfg, specs, lang)

    return draw, outputs


def _panels(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_panels_are_lettered_and_say_which_way_is_better(headline):
    draw, outputs = headline
    fig, caption = draw()
    drawn = [o for o in outputs if o != "participation_rate"]
    titles = [ax.get_title(loc="left") for ax in _panels(fig)]
    assert [t[:3] for t in titles] == [f"({c})" for c in "abcdefghijklmnopqrstuvwxyz"[: len(drawn)]]
    for title, output in zip(titles, drawn, strict=True):
        assert label(output) in title
        better = {"↑": "↑ higher is better", "↓": "↓ lower is better"}.get(arrow(output), "")
        assert better in title.splitlines()[1]
    assert "↑ higher is better, ↓ lower is better" in caption


def test_a_metric_that_is_zero_in_every_run_gets_no_panel(headline):
    draw, outputs = headline
    fig, caption = draw()
    assert len(_panels(fig)) == len(outputs) - 1
    assert not any(label("participation_rate") in ax.get_title(loc="left") for ax in fig.axes)
    assert "Not drawn, zero in every run: participation rate." in caption
    assert figures.all_zero(np.array([0.0, np.nan, 0.0]))
    assert not figures.all_zero(np.array([0.0, 0.001]))


def test_effects_are_differences_from_bureaucratic_on_an_honest_axis(headline):
    draw, _ = headline
    fig, _ = draw()
    (trust,) = [ax for ax in _panels(fig) if label("mean_trust") in ax.get_title(loc="left")]
    low, high = trust.get_xlim()
    assert low < 0 < high and low == pytest.approx(-high)  # centred on no difference
    assert high >= figures.MIN_REACH * 0.53  # gaps of 0.01 near 0.5 are not blown up
    points = sorted(
        float(np.ravel(line.get_xdata())[0])
        for line in trust.get_lines()
        if line.get_marker() == "o"
    )
    assert points == pytest.approx([0.01, 0.02, 0.03], abs=0.003)  # the reference is 0


def test_structure_names_appear_once_in_a_shared_legend(headline):
    draw, _ = headline
    fig, _ = draw()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [label(s) for s in STRUCTURES[1:]]
    for ax in _panels(fig):
        assert not ax.get_yticks().size
        ticks = " ".join(t.get_text() for t in ax.get_xticklabels())
        assert not any(label(s) in ticks for s in STRUCTURES)


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_chinese_caption(headline):
    with matplotlib.rc_context():
        use_language("zh")
        _, caption = headline[0]("zh")
    assert caption.startswith("相同总预算下各治理结构的比较") and "科层制" in caption
    assert "未绘制(所有运行均为零): 参与率" in caption


def test_chinese_files_do_not_overwrite_the_english_ones(tmp_path):
    from matplotlib.figure import Figure

    english = figures.save(Figure(), "structure_comparison", tmp_path)
    chinese = figures.save(Figure(), "structure_comparison", tmp_path, "zh")
    assert [p.name for p in english] == ["structure_comparison.png", "structure_comparison.pdf"]
    assert [p.name for p in chinese] == [
        "structure_comparison.zh.png",
        "structure_comparison.zh.pdf",
    ]
    en = figures.write_captions(tmp_path, {"structure_comparison": "English."})
    zh = figures.write_captions(tmp_path, {"structure_comparison": "中文图注。"}, "zh")
    assert (en.name, zh.name) == ("captions.md", "captions.zh.md")
    assert "English." in en.read_text() and "中文图注。" not in en.read_text()
    assert zh.read_text(encoding="utf-8").startswith("# 图注")


def test_cogov_figures_says_what_is_missing_and_how_long_before_any_run(
    tmp_path, monkeypatch, capsys
):
    from experiments import pipeline
    from tests.conftest import days, world

    printed = []

    def first_run(cfg, overrides):
        printed.append(capsys.readouterr().out)
        raise SystemExit(0)

    monkeypatch.setattr(pipeline, "runs_of", first_run)
    with pytest.raises(SystemExit):
        figures.main(
            [
                "--only",
                "structure_comparison",
                *world(16, communities=4),
                *days(12),
                "experiment.seeds=2",
                "experiment.structures=[grid,sanshe]",
                f"results.db={tmp_path / 'cogov.duckdb'}",
                f"results.runs_dir={tmp_path / 'runs'}",
            ]
        )
    (out,) = printed
    assert out.startswith("cogov-figures: 4 runs missing for 1 figure(s) (compare_structures 4)")
    assert "\nestimated time: about " in out and "(an estimate, from a timed" in out


def test_nothing_missing_and_a_missing_calibration_are_said_too():
    from experiments.estimate import Missing, duration, report

    assert "every run of the 2 figure(s) is stored" in report([Missing("a", 0, None, 1)], 2)
    text = report([Missing("validate_reform", 80, None, 2, "beijing_2019", 1600, None)], 1)
    assert "80 runs missing" in text and "calibration beijing_2019 (at least 1,600" in text
    assert [duration(s) for s in (0.2, 40, 600, 7200)] == ["1 s", "40 s", "10 min", "2.0 h"]


def test_every_figure_has_a_chinese_caption():
    import inspect

    for name, (_, drawing) in figures.FIGURES.items():
        assert "_caption(" in inspect.getsource(drawing), f"{name} has no Chinese caption"
    assert figures._caption("zh", "English.", "中文。") == "中文。"
    assert figures._caption("en", "English.", "中文。") == "English."
