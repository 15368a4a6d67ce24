"""English and Chinese labels, and Chinese text in matplotlib figures."""

from __future__ import annotations

import warnings

import matplotlib as mpl
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from experiments.labels import CJK_FONTS, LABELS, cjk_font, label, use_language
from experiments.run import final_metrics
from model import ConfigError
from model.config import CONFIG_DIR
from tests.conftest import build, days, world


def _presets(group: str) -> list[str]:
    return sorted(path.stem for path in (CONFIG_DIR / group).glob("*.yaml"))


def _metric_names() -> list[str]:
    """Every metric a run reports: daily metrics plus whole-run figures (spending, resilience)."""
    model = build(*world(6, communities=1), *days(2))
    model.run_for(2)
    return sorted(final_metrics(model))


def test_every_structure_shock_and_metric_has_both_languages():
    keys = [*_presets("structure"), *_presets("shock"), *_metric_names()]
    missing = [key for key in keys if set(LABELS.get(key, {})) != {"en", "zh"}]
    assert not missing, f"no en/zh label for {missing}"
    untranslated = [key for key in keys if label(key, "zh") == label(key, "en")]
    assert not untranslated, f"same label in both languages: {untranslated}"


def test_labels_in_both_languages():
    assert label("mean_satisfaction", "zh") == "满意度"
    assert label("sanshe", "zh") == "三社联动"
    assert label("backlog") == "backlog"


def test_unknown_key_is_its_own_label():
    assert label("no_such_metric", "zh") == "no_such_metric"


@pytest.mark.parametrize("call", [lambda: label("backlog", "fr"), lambda: use_language("de")])
def test_unknown_language_is_a_one_line_error(call):
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message
    assert "lang=" in message and "en, zh" in message


@pytest.fixture
def restore_rcparams():
    with mpl.rc_context():
        yield


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_chinese_figure_renders_without_missing_glyphs(tmp_path, restore_rcparams):
    use_language("zh")
    fig = Figure()
    ax = fig.subplots()
    ax.plot([-1, 0, 1], label=label("mean_trust", "zh"))
    ax.set_title(f"{label('sanshe', 'zh')}: {label('mean_satisfaction', 'zh')}")
    ax.set_xlabel(label("day", "zh"))
    ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "zh.png")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    assert (tmp_path / "zh.png").stat().st_size > 0


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_cjk_font_installed_after_matplotlib_listed_its_fonts_is_found(monkeypatch):
    manager = font_manager.fontManager
    cjk_files = {font.fname for font in manager.ttflist if font.name in CJK_FONTS}
    stale = [font for font in manager.ttflist if font.fname not in cjk_files]
    monkeypatch.setattr(manager, "ttflist", stale)
    assert cjk_font() in CJK_FONTS


def test_english_restores_the_default_fonts(restore_rcparams):
    use_language("en")
    assert mpl.rcParams["font.sans-serif"] == mpl.rcParamsDefault["font.sans-serif"]
    assert mpl.rcParams["axes.unicode_minus"]


def test_chinese_without_a_cjk_font_names_the_package(monkeypatch, restore_rcparams):
    monkeypatch.setattr("experiments.labels.cjk_font", lambda: None)
    with pytest.raises(ConfigError) as error:
        use_language("zh")
    assert "\n" not in str(error.value) and "fonts-noto-cjk" in str(error.value)


def test_every_literal_label_in_figures_and_app_is_translated():
    """A ``label("key", lang)`` (``tr("key")`` in the app) with a key that has no entry falls
    back to the key itself, which would leave English words in a Chinese figure."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    keys = set()
    for path in (root / "experiments" / "figures.py", root / "app.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("label", "tr")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add(node.args[0].value)
    assert keys, "no label calls found: has the helper been renamed?"
    assert sorted(k for k in keys if k not in LABELS) == []
